import { describe, expect, it } from "vitest";
import { ARM_WRITES, reserveWrite, WRITE_RESERVE, type WriteSchedule } from "../../src/domain/writeBudget";

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

/** Books `n` writes asked for at `now`, in order; their slots. */
function book(n: number, now: number, reserve: number, start?: WriteSchedule): { slots: number[]; schedule: WriteSchedule | undefined } {
  let schedule = start;
  const slots: number[] = [];
  for (let i = 0; i < n; i++) {
    const booked = reserveWrite(schedule, now, reserve);
    slots.push(booked.at);
    schedule = booked.schedule;
  }
  return { slots, schedule };
}

describe("reserveWrite (ARM's write budget: 200 at once, then 10 a second)", () => {
  it("lets the first 200 writes go at once, then one every 100 ms", () => {
    const { slots } = book(203, T0, 0);
    expect(slots.slice(0, 200).every((s) => s === T0)).toBe(true);
    expect(slots.slice(200).map((s) => s - T0)).toEqual([100, 200, 300]);
    expect(ARM_WRITES).toEqual({ burst: 200, perSecond: 10 });
  });

  it("keeps the reserve for share calls: role assignments get 180 at once, a share call still goes at once after them", () => {
    const waves = book(181, T0, WRITE_RESERVE);
    expect(waves.slots.filter((s) => s === T0)).toHaveLength(180);
    expect(waves.slots[180]! - T0).toBe(100);
    const share = reserveWrite(waves.schedule, T0, 0);
    expect(share.at).toBe(T0);
  });

  it("refills with time: a second later ten more go at once", () => {
    const { schedule } = book(200, T0, 0);
    const later = book(11, T0 + 1000, 0, schedule);
    expect(later.slots.filter((s) => s === T0 + 1000)).toHaveLength(10);
    expect(later.slots[10]).toBe(T0 + 1100);
  });

  it("an empty or long-idle schedule starts full, and a clock behind the schedule never books in the past", () => {
    expect(reserveWrite(undefined, T0, WRITE_RESERVE).at).toBe(T0);
    expect(reserveWrite({ tat: T0 - 3_600_000 }, T0, WRITE_RESERVE)).toEqual({ at: T0, schedule: { tat: T0 + 100 } });
    const behind = reserveWrite({ tat: T0 + 60_000 }, T0, 0);
    expect(behind.at).toBeGreaterThanOrEqual(T0);
  });
});
