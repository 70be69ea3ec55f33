// One clock shared by the emulator (replication progress, token expiry, throttling refill)
// and the local host (durable timers), so simulated time moves both together.

export interface Clock {
  /** Milliseconds since the epoch, in this clock's time. */
  now(): number;
}

/** Time that moves only when told to: tests and benchmarks run hours of replication in milliseconds. */
export class VirtualClock implements Clock {
  private current: number;
  private readonly listeners = new Set<(now: number) => void>();

  constructor(start: number | Date = Date.UTC(2026, 0, 1, 8, 0, 0)) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: ms must be >= 0, got ${ms}`);
    this.setTime(this.current + ms);
  }

  /** Moves the clock forward to `time`; moving it backwards is refused. */
  setTime(time: number): void {
    if (time < this.current) throw new RangeError(`VirtualClock cannot move backwards (${time} < ${this.current})`);
    this.current = time;
    for (const listener of this.listeners) listener(this.current);
  }

  onAdvance(listener: (now: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Wall-clock time, optionally sped up from the moment it was created (the demo runs replication at e.g. 60x). */
export class WallClock implements Clock {
  private readonly origin = Date.now();

  constructor(private readonly speed = 1) {
    if (!(speed > 0)) throw new RangeError(`WallClock speed must be > 0, got ${speed}`);
  }

  now(): number {
    const elapsed = Date.now() - this.origin;
    return this.origin + Math.round(elapsed * this.speed);
  }

  /** Real milliseconds until this clock reaches `time`. */
  realDelayUntil(time: number): number {
    return Math.max(0, Math.ceil((time - this.now()) / this.speed));
  }
}
