// Callbacks at clock times: durable timers and timer triggers. On a VirtualClock they fire when the
// clock is moved (onAdvance); on any other clock a real setTimeout is armed for the earliest one
// (WallClock.realDelayUntil translates sped-up time into real milliseconds).
import type { Clock } from "../clock";

export interface Alarm {
  readonly at: number;
  readonly tag: string;
  cancel(): void;
}

interface Entry {
  at: number;
  seq: number;
  tag: string;
  fire: () => void;
  canceled: boolean;
}

interface VirtualLike {
  onAdvance(listener: (now: number) => void): () => void;
}

interface RealDelayLike {
  realDelayUntil(time: number): number;
}

export function isVirtualClock(clock: Clock): clock is Clock & VirtualLike & { setTime(time: number): void } {
  const c = clock as Partial<VirtualLike> & Partial<{ setTime: unknown }>;
  return typeof c.onAdvance === "function" && typeof c.setTime === "function";
}

const MAX_TIMEOUT = 2 ** 31 - 1;

export class Alarms {
  private entries: Entry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly clock: Clock) {
    if (isVirtualClock(clock)) this.unsubscribe = clock.onAdvance(() => this.fireDue());
  }

  schedule(at: number, tag: string, fire: () => void): Alarm {
    const entry: Entry = { at, seq: this.seq++, tag, fire, canceled: false };
    this.entries.push(entry);
    this.entries.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.arm();
    return {
      at,
      tag,
      cancel: () => {
        entry.canceled = true;
        this.entries = this.entries.filter((e) => e !== entry);
        this.arm();
      },
    };
  }

  /** Earliest pending alarm time, optionally of one tag. */
  next(tag?: string): number | undefined {
    return this.entries.find((e) => !e.canceled && (tag === undefined || e.tag === tag))?.at;
  }

  fireDue(): void {
    if (this.closed) return;
    const now = this.clock.now();
    const due: Entry[] = [];
    while (this.entries[0] && this.entries[0].at <= now) {
      const e = this.entries.shift();
      if (e && !e.canceled) due.push(e);
    }
    for (const e of due) e.fire();
    this.arm();
  }

  close(): void {
    this.closed = true;
    this.entries = [];
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.unsubscribe?.();
  }

  private arm(): void {
    if (this.closed) return;
    const first = this.entries[0];
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!first) return;
    if (first.at <= this.clock.now()) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.fireDue();
      });
      return;
    }
    if (isVirtualClock(this.clock)) return; // fires when the clock is moved
    const realClock = this.clock as Partial<RealDelayLike>;
    const delay = typeof realClock.realDelayUntil === "function" ? realClock.realDelayUntil(first.at) : first.at - this.clock.now();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.fireDue();
      },
      Math.min(Math.max(0, delay), MAX_TIMEOUT),
    );
  }
}
