// An estimate of how many history events an orchestration's execution has written, from what it
// yields: each yielded task (an activity, a timer, a race) costs at most EVENTS_PER_YIELD events (it
// being scheduled, its completion, the episode around it, a cancelled timer firing later). Counting
// yields instead of reading the history keeps the count the same on replay: the orchestration
// decides to continue as new by it.
import type * as df from "durable-functions";

const EVENTS_PER_YIELD = 6;
/** ExecutionStarted, the first episode's OrchestratorStarted / Completed. */
const EVENTS_AT_START = 3;

export class HistoryMeter {
  events = EVENTS_AT_START;

  /** Runs `steps` (an activity call, a timer, ...), counting each task it yields. */
  *run<T>(steps: Generator<df.Task, T, unknown>): Generator<df.Task, T, unknown> {
    let step = steps.next();
    while (!step.done) {
      this.events += EVENTS_PER_YIELD;
      let value: unknown;
      try {
        value = yield step.value;
      } catch (err) {
        step = steps.throw(err);
        continue;
      }
      step = steps.next(value);
    }
    return step.value;
  }
}
