// Timer triggers on the host clock. `schedule` is an NCRONTAB expression with six fields
// (second minute hour day month day-of-week; `*`, numbers, lists `a,b`, ranges `a-b`, steps `*/n`,
// `a-b/n`, `a/n`; month and day names; day-of-week 0-6 with 0 = Sunday, 7 also Sunday) evaluated in
// UTC, or a TimeSpan "hh:mm:ss" meaning every that long. Each occurrence invokes the function once
// with the timer object ({ schedule, scheduleStatus: { last, next, lastUpdated }, isPastDue }); when the
// clock jumps over several occurrences (a VirtualClock moved by hours) the function runs once, past due,
// and the next occurrence is computed from the new time, as the host does after downtime.
import type { Clock } from "../clock";
import type { Alarms } from "./alarms";
import type { Registration } from "./core";
import { invoke, jsonTypedData, triggerBindingOf, type BindingServices, type HostLog } from "./invoke";
import { resolveSetting } from "./serviceBusTriggers";

interface Field {
  readonly values: ReadonlySet<number>;
  readonly wildcard: boolean;
}

export interface Schedule {
  next(after: number): number;
  readonly text: string;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function parseField(text: string, min: number, max: number, names: readonly string[] | undefined, nameBase: number, what: string): Field {
  const values = new Set<number>();
  const num = (s: string): number => {
    const upper = s.toUpperCase();
    const named = names?.indexOf(upper) ?? -1;
    if (named >= 0) return named + nameBase;
    if (!/^\d+$/.test(s)) throw new Error(`NCRONTAB ${what}: "${s}" is not a number`);
    return Number(s);
  };
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(step >= 1) || !Number.isInteger(step)) throw new Error(`NCRONTAB ${what}: bad step in "${part}"`);
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = min;
      hi = max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      lo = num(a);
      hi = num(b);
    } else {
      lo = num(range);
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`NCRONTAB ${what}: "${part}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, wildcard: text === "*" || text === "?" };
}

export function parseSchedule(text: string): Schedule {
  const trimmed = text.trim();
  const span = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(trimmed);
  if (span) {
    const ms = ((Number(span[1] ?? 0) * 24 + Number(span[2])) * 3600 + Number(span[3]) * 60 + Number(span[4])) * 1000;
    if (ms <= 0) throw new Error(`Timer schedule "${text}": the interval must be positive`);
    return { text: trimmed, next: (after) => after + ms };
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 6)
    throw new Error(`Timer schedule "${text}" is not a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week})`);
  const [s = "", mi = "", h = "", d = "", mo = "", dw = ""] = fields;
  const second = parseField(s, 0, 59, undefined, 0, "second");
  const minute = parseField(mi, 0, 59, undefined, 0, "minute");
  const hour = parseField(h, 0, 23, undefined, 0, "hour");
  const day = parseField(d === "?" ? "*" : d, 1, 31, undefined, 0, "day");
  const month = parseField(mo, 1, 12, MONTHS, 1, "month");
  const dowRaw = parseField(dw === "?" ? "*" : dw, 0, 7, DAYS, 0, "day-of-week");
  const dow = new Set([...dowRaw.values].map((v) => v % 7));
  const dayMatches = (date: Date): boolean => {
    const dom = day.values.has(date.getUTCDate());
    const wd = dow.has(date.getUTCDay());
    // cron rule: when both are restricted, either matches
    if (!day.wildcard && !dowRaw.wildcard) return dom || wd;
    return dom && wd;
  };
  const next = (after: number): number => {
    let t = Math.floor(after / 1000) * 1000 + 1000;
    const limit = after + 5 * 366 * 24 * 3600 * 1000;
    while (t <= limit) {
      const date = new Date(t);
      if (!month.values.has(date.getUTCMonth() + 1)) {
        t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
        continue;
      }
      if (!dayMatches(date)) {
        t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
        continue;
      }
      if (!hour.values.has(date.getUTCHours())) {
        t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours() + 1);
        continue;
      }
      if (!minute.values.has(date.getUTCMinutes())) {
        t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes() + 1);
        continue;
      }
      if (!second.values.has(date.getUTCSeconds())) {
        t += 1000;
        continue;
      }
      return t;
    }
    throw new Error(`Timer schedule "${text}" has no occurrence within five years`);
  };
  return { text: trimmed, next };
}

export interface TimerFunction {
  registration: Registration;
  schedule: Schedule;
  runOnStartup: boolean;
}

export function timerFunctionOf(registration: Registration, env: Readonly<Record<string, string | undefined>>): TimerFunction | undefined {
  const [, trigger] = triggerBindingOf(registration);
  if (String(trigger.type).toLowerCase() !== "timertrigger" || typeof trigger.schedule !== "string") return undefined;
  return { registration, schedule: parseSchedule(resolveSetting(trigger.schedule, env)), runOnStartup: trigger.runOnStartup === true };
}

/** Arms every timer function on the alarms; returns a stop function. Runs are tracked in `inFlight`. */
export function startTimerTriggers(
  functions: readonly TimerFunction[],
  clock: Clock,
  alarms: Alarms,
  log: HostLog,
  inFlight: Set<Promise<unknown>>,
  bindings: BindingServices,
): () => void {
  const stops: Array<() => void> = [];
  let stopped = false;
  for (const fn of functions) {
    let last: number | undefined;
    let alarm: { cancel(): void } | undefined;
    const run = (scheduledFor: number, isPastDue: boolean): void => {
      const now = clock.now();
      const next = fn.schedule.next(now);
      const timer = {
        Schedule: { AdjustForDST: true },
        ScheduleStatus: { Last: new Date(last ?? scheduledFor).toISOString(), Next: new Date(next).toISOString(), LastUpdated: new Date(now).toISOString() },
        IsPastDue: isPastDue,
      };
      last = scheduledFor;
      const p = invoke(fn.registration, { trigger: jsonTypedData(timer), bindings, log }).then((outcome) => {
        if (!outcome.ok) log(`[${fn.registration.metadata.name}] timer run failed: ${outcome.error.message}`);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    const arm = (): void => {
      if (stopped) return;
      const at = fn.schedule.next(clock.now());
      alarm = alarms.schedule(at, "timerTrigger", () => {
        const now = clock.now();
        // More than one occurrence skipped over, or late by a whole period: past due.
        const isPastDue = fn.schedule.next(at) <= now;
        run(at, isPastDue);
        arm();
      });
    };
    if (fn.runOnStartup) run(clock.now(), false);
    arm();
    stops.push(() => alarm?.cancel());
  }
  return () => {
    stopped = true;
    for (const s of stops) s();
  };
}
