// How orchestrations call activities: `yield* activities.readImageVersion(context, input, policy)`.
// `activities` is a typed proxy over the type of the app's activity map (src/activities/index.ts):
// the name is the property, input and output types are the implementation's, and go-to-definition
// lands on the implementation. Only the type is imported, so nothing of an activity loads here.
//
// Each call retries what the activity says is retryable, on durable timers: the wait after each
// failed attempt is the exponential backoff, or the service's Retry-After when that is longer
// (Durable's callActivityWithRetry ignores Retry-After). The attempt budget still applies. A failed
// attempt's `resumeWith` is merged into the next attempt's input.
// Deterministic: time comes from the orchestration context.
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import type { Activities } from "../activities";
import type { ActivityError, ActivityResult } from "../domain/activityResult";
import { retryDelaySeconds, stableSpread, type RetryPolicy } from "../domain/retryPolicy";

export type Failure = ActivityError;
export type Outcome<O> = { readonly ok: true; readonly value: O } | { readonly ok: false; readonly error: Failure };

/** One activity as an orchestration calls it. */
export type ActivityCall<I, O> = (context: OrchestrationContext, input: I, policy: RetryPolicy) => Generator<df.Task, Outcome<O>, unknown>;

type CallOf<A> = A extends (input: infer I, ...rest: never[]) => Promise<ActivityResult<infer O>> ? ActivityCall<I, O> : never;

/** Every activity of a map, as orchestrations call them. */
export type ActivityCalls<M> = { readonly [K in keyof M]: CallOf<M[K]> };

/** A proxy that turns any property into a call of the activity of that name; it holds no state. */
export function proxyActivities<M>(): ActivityCalls<M> {
  return new Proxy({} as ActivityCalls<M>, {
    get: (_target, name) =>
      typeof name === "string" ? (context: OrchestrationContext, input: unknown, policy: RetryPolicy) => callActivity(context, name, input, policy) : undefined,
  });
}

export const activities: ActivityCalls<Activities> = proxyActivities<Activities>();

function* callActivity<O>(context: OrchestrationContext, name: string, firstInput: unknown, policy: RetryPolicy): Generator<df.Task, Outcome<O>, unknown> {
  let input = firstInput;
  for (let attempt = 1; ; attempt++) {
    let result: ActivityResult<O>;
    try {
      result = asResult<O>(yield context.df.callActivity(name, input));
    } catch (err) {
      // The activity threw (it should not: it returns its errors), or the host failed it: retry.
      result = { ok: false, error: { code: "ActivityFailed", message: failureReason(err) }, retry: {} };
    }
    if (result.ok) return result;
    if (!result.retry) return { ok: false, error: result.error };
    if (attempt >= policy.attempts) {
      return { ok: false, error: { ...result.error, code: "RetriesExhausted", message: `${name} failed ${attempt} times: ${result.error.message}` } };
    }
    // What a failed attempt may already have done travels to the next one (a lost answer to a write).
    if (result.resumeWith && typeof input === "object" && input !== null) input = { ...input, ...result.resumeWith };
    // Throttled: spread over up to twice the wait, the same on every replay (instance, activity, attempt).
    const throttled = result.error.status === 429 || result.error.code === "TooManyRequests";
    const spread = throttled ? stableSpread(`${context.df.instanceId}|${name}|${attempt}`) : undefined;
    const waitMs = Math.round(retryDelaySeconds(policy, attempt, result.retry.afterSeconds, spread) * 1000);
    if (!context.df.isReplaying) {
      context.log(`${name} attempt ${attempt} of ${policy.attempts} failed (${result.error.code}); next attempt in ${waitMs / 1000} s`);
    }
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + waitMs));
  }
}

/** The activity's return value, checked to be a result envelope (a wrong shape is a bug, reported as one). */
function asResult<O>(value: unknown): ActivityResult<O> {
  if (typeof value === "object" && value !== null && "ok" in value && typeof value.ok === "boolean") {
    return value as ActivityResult<O>;
  }
  return { ok: false, error: { code: "InvalidActivityResult", message: "the activity returned something that is not an ActivityResult" } };
}

/** The first line of a failed task's reason, without the host's "Activity function 'x' failed:" prefix. */
function failureReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split("\n")[0] ?? "").replace(/^Activity function '[^']*' failed:\s*/, "").trim();
  return line.length > 400 ? `${line.slice(0, 400)}...` : line;
}
