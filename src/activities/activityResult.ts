// Runs an activity body and sorts its errors: retryable ones are thrown so the orchestration's
// retry policy (callActivityWithRetry) tries again; permanent ones are returned as a result so the
// orchestration stops at once with the ARM error code instead of retrying a 403 six times.
import { classifyError, describeError } from "../domain/errors";
import { ShareRuleError } from "../domain/sharePlan";
import { DomainValidationError } from "../domain/validation";
import type { ActivityResult } from "./names";

export class RetryableActivityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RetryableActivityError";
  }
}

export async function runActivity<T>(body: () => Promise<T>): Promise<ActivityResult<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (err) {
    if (err instanceof ShareRuleError) return { ok: false, error: { code: err.rule, message: err.message } };
    if (err instanceof DomainValidationError) return { ok: false, error: { code: "InvalidInput", message: err.message } };
    const classified = classifyError(err);
    if (classified.retryable) throw new RetryableActivityError(describeError(classified));
    return {
      ok: false,
      error: {
        code: classified.code ?? classified.kind,
        message: describeError(classified),
        ...(classified.status === undefined ? {} : { status: classified.status }),
        ...(classified.missingAction === undefined ? {} : { missingAction: classified.missingAction }),
      },
    };
  }
}
