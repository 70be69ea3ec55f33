// What an activity is, and how one runs. runActivity runs an activity body and sorts its errors into the result the orchestration acts on: retryable
// ones come back with `retry` (and the service's Retry-After), so the orchestration waits on a
// durable timer before the next attempt; permanent ones come back without it, so the orchestration
// stops at once with the ARM error code instead of retrying a 403 six times. Nothing is thrown and
// nothing sleeps here.
import type { InvocationContext } from "@azure/functions";
import { classifyError, describeError } from "../domain/errors";
import { DomainValidationError } from "../domain/validation";
import type { ActivityResult } from "../domain/activityResult";

/**
 * An activity: a function of its input (and the invocation, for those that use the durable client)
 * that returns its errors. Feature modules return maps of them; the key is the activity's name.
 */
export type Activity<I, O> = (input: I, context: InvocationContext) => Promise<ActivityResult<O>>;

const durableClientUsers = new WeakSet<object>();

/** Marks an activity that starts orchestrations or raises events: it is registered with the durable client input. */
export function withDurableClient<I, O>(activity: Activity<I, O>): Activity<I, O> {
  durableClientUsers.add(activity);
  return activity;
}

export function usesDurableClient(activity: object): boolean {
  return durableClientUsers.has(activity);
}

/** A permanent failure an activity names itself (a rule of this app, not an Azure error). */
export class ActivityRuleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ActivityRuleError";
  }
}

/**
 * A failure after the activity may already have changed something: `resumeWith` (input fields)
 * tells the next attempt what this one did. The cause decides whether it is retried.
 */
export class ResumableError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly resumeWith: Readonly<Record<string, unknown>>,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "ResumableError";
  }
}

/**
 * A write the app holds back itself to keep within ARM's write budget (src/domain/writeBudget.ts):
 * a 429 with Retry-After as ARM would answer, so the orchestration waits on a durable timer, and
 * the booked slot travels to the next attempt (`resumeWith`), which then writes without asking again.
 */
export function heldBackWrite(waitMs: number, slot: number): ResumableError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const cause = Object.assign(new Error(`held back to keep within ARM's write budget for the subscription; its slot comes in ${seconds} s`), {
    statusCode: 429,
    code: "ArmWriteBudget",
    response: { headers: { "retry-after": String(seconds) } },
  });
  return new ResumableError(cause, { writeSlot: slot });
}

export async function runActivity<T>(body: () => Promise<T>): Promise<ActivityResult<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (err) {
    if (err instanceof ResumableError) {
      const result = failureOf<T>(err.cause);
      return result.ok || !result.retry ? result : { ...result, resumeWith: err.resumeWith };
    }
    return failureOf<T>(err);
  }
}

/** A thrown error as the result the orchestration acts on. */
function failureOf<T>(err: unknown): ActivityResult<T> {
  if (err instanceof ActivityRuleError) return { ok: false, error: { code: err.code, message: err.message } };
  if (err instanceof DomainValidationError) return { ok: false, error: { code: "InvalidInput", message: err.message } };
  const classified = classifyError(err);
  const error = {
    code: classified.code ?? classified.kind,
    message: describeError(classified),
    ...(classified.status === undefined ? {} : { status: classified.status }),
    ...(classified.missingAction === undefined ? {} : { missingAction: classified.missingAction }),
  };
  if (!classified.retryable) return { ok: false, error };
  return { ok: false, error, retry: classified.retryAfterSeconds === undefined ? {} : { afterSeconds: classified.retryAfterSeconds } };
}
