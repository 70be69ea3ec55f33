// ARM's write budget per subscription and principal (a token bucket: 200 writes at once, refilled
// 10 a second; see the throttling facts in docs/design notes), shared in the publisher subscription
// by the app's share calls and its role assignments. Kept as a schedule (a generic cell rate): `tat`
// is when the bucket would be full again. A write asks for a slot and gets `now` when the bucket has
// room, else the earliest time it will; the slot is its own from then on. Role assignments leave
// WRITE_RESERVE writes for the share calls, which Compute's budget paces already and which must not
// wait behind an onboarding wave. Times are epoch milliseconds passed in: nothing here reads a clock.

export const ARM_WRITES = { burst: 200, perSecond: 10 } as const;
/** Writes role assignments leave in the bucket for share calls (at most 10 in 3 minutes). */
export const WRITE_RESERVE = 20;

export interface WriteSchedule {
  /** When the bucket would be full again (epoch ms). */
  readonly tat: number;
}

/** The earliest time at or after `now` the write may go, leaving `reserve` writes, and the schedule with it booked. */
export function reserveWrite(schedule: WriteSchedule | undefined, now: number, reserve: number): { at: number; schedule: WriteSchedule } {
  const interval = 1000 / ARM_WRITES.perSecond;
  const room = Math.max(1, ARM_WRITES.burst - Math.max(0, reserve));
  const tat = Math.max(schedule?.tat ?? now, now);
  const at = Math.max(now, tat - (room - 1) * interval);
  return { at, schedule: { tat: Math.max(tat, at) + interval } };
}
