// Wakes the broker when its clock reaches the next deadline (a lock expiring, a scheduled message
// coming due, a time-to-live running out). A VirtualClock is watched through onAdvance, so tests
// move time and the broker reacts at once with no real timer; other clocks get one real timer for
// the earliest deadline (WallClock's realDelayUntil accounts for its speed).
import type { Clock } from "../clock";

interface AdvancingClock extends Clock {
  onAdvance(listener: (now: number) => void): () => void;
}

interface SpedUpClock extends Clock {
  realDelayUntil(time: number): number;
}

function isAdvancing(clock: Clock): clock is AdvancingClock {
  return typeof (clock as Partial<AdvancingClock>).onAdvance === "function";
}

function isSpedUp(clock: Clock): clock is SpedUpClock {
  return typeof (clock as Partial<SpedUpClock>).realDelayUntil === "function";
}

/** setTimeout's ceiling (about 24.8 days); longer waits re-arm when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DeadlineWatch {
  private timer: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: () => void,
  ) {
    this.unsubscribe = isAdvancing(clock) ? clock.onAdvance(() => this.fire()) : undefined;
  }

  /** Makes sure the broker wakes at `time` (broker clock); undefined = nothing pending. */
  arm(time: number | undefined): void {
    if (this.closed || this.unsubscribe) return; // a virtual clock calls us when it moves
    if (time === undefined) {
      this.disarm();
      return;
    }
    if (this.armedFor !== undefined && this.armedFor <= time && this.timer) return;
    this.disarm();
    const delay = isSpedUp(this.clock) ? this.clock.realDelayUntil(time) : Math.max(0, time - this.clock.now());
    this.armedFor = time;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.armedFor = undefined;
        this.fire();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    this.disarm();
    this.unsubscribe?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  private fire(): void {
    if (!this.closed) this.onDue();
  }
}
