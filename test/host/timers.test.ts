// NCRONTAB schedules and timer triggers on the host clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSchedule } from "../../local/host/timerTriggers";
import { fixtureState, startFixtureHost, T0, type FixtureHost } from "./support";

const at = (iso: string): number => Date.parse(iso);

describe("NCRONTAB schedules", () => {
  it("every N minutes", () => {
    const s = parseSchedule("0 */5 * * * *");
    expect(new Date(s.next(at("2026-01-01T08:00:00Z"))).toISOString()).toBe("2026-01-01T08:05:00.000Z");
    expect(new Date(s.next(at("2026-01-01T08:03:10Z"))).toISOString()).toBe("2026-01-01T08:05:00.000Z");
    expect(new Date(s.next(at("2026-01-01T23:58:00Z"))).toISOString()).toBe("2026-01-02T00:00:00.000Z");
  });

  it("fixed times, lists, ranges, days of week and names", () => {
    expect(new Date(parseSchedule("0 30 9 * * *").next(at("2026-01-01T10:00:00Z"))).toISOString()).toBe("2026-01-02T09:30:00.000Z");
    expect(new Date(parseSchedule("0 0 9,17 * * *").next(at("2026-01-01T09:00:00Z"))).toISOString()).toBe("2026-01-01T17:00:00.000Z");
    // 2026-01-01 is a Thursday; next Monday-Friday 09:00 after Friday evening is Monday
    expect(new Date(parseSchedule("0 0 9 * * 1-5").next(at("2026-01-02T18:00:00Z"))).toISOString()).toBe("2026-01-05T09:00:00.000Z");
    expect(new Date(parseSchedule("0 0 0 1 Feb *").next(at("2026-01-15T00:00:00Z"))).toISOString()).toBe("2026-02-01T00:00:00.000Z");
    expect(new Date(parseSchedule("*/30 * * * * *").next(at("2026-01-01T00:00:10Z"))).toISOString()).toBe("2026-01-01T00:00:30.000Z");
  });

  it("TimeSpan schedules and errors", () => {
    expect(parseSchedule("00:10:00").next(1000)).toBe(1000 + 600_000);
    expect(() => parseSchedule("*/5 * * * *")).toThrow(/six-field/);
    expect(() => parseSchedule("0 61 * * * *")).toThrow(/minute/);
  });
});

describe("timer trigger on the host clock", () => {
  let fx: FixtureHost;
  beforeAll(async () => {
    fx = await startFixtureHost();
  });
  afterAll(async () => {
    await fx.host.close();
  });

  it("fires at each occurrence as the virtual clock moves, once (past due) after a jump", async () => {
    const { host, clock } = fx;
    const ticks = (await fixtureState()).ticks;
    expect(clock.now()).toBe(T0);
    clock.advance(4 * 60_000);
    await host.durable.runUntilIdle();
    expect(ticks).toHaveLength(0);
    clock.advance(60_000);
    await host.durable.runUntilIdle();
    expect(ticks).toEqual([{ isPastDue: false, at: new Date(T0 + 5 * 60_000).toISOString() }]);
    clock.advance(60 * 60_000);
    await host.durable.runUntilIdle();
    expect(ticks).toHaveLength(2);
    expect(ticks[1]?.isPastDue).toBe(true);
    clock.advance(5 * 60_000);
    await host.durable.runUntilIdle();
    expect(ticks).toHaveLength(3);
    expect(ticks[2]?.isPastDue).toBe(false);
  });
});
