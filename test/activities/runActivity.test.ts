// runActivity: how an activity's thrown errors become the result the orchestration acts on, and
// what a failure after a write may have been applied tells the next attempt.
import { describe, expect, it } from "vitest";
import { ActivityRuleError, ResumableError, runActivity } from "../../src/activities/activity";

const httpError = (statusCode: number, code: string) => Object.assign(new Error(`${code}: refused`), { statusCode, code });
const lostAnswer = () => Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });

describe("runActivity", () => {
  it("returns a value as ok", async () => {
    expect(await runActivity(() => Promise.resolve(3))).toEqual({ ok: true, value: 3 });
  });

  it("a rule of this app is permanent, with its code", async () => {
    expect(await runActivity(() => Promise.reject(new ActivityRuleError("tenant-limit", "too many")))).toEqual({
      ok: false,
      error: { code: "tenant-limit", message: "too many" },
    });
  });

  it("a retryable failure after a write carries what the next attempt must know", async () => {
    const result = await runActivity(() => Promise.reject(new ResumableError(lostAnswer(), { earlier: { shareCalls: 1 } })));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.retry).toEqual({});
    expect(!result.ok && result.resumeWith).toEqual({ earlier: { shareCalls: 1 } });
  });

  it("a permanent failure is not retried, so it carries nothing forward", async () => {
    const result = await runActivity(() => Promise.reject(new ResumableError(httpError(403, "AuthorizationFailed"), { earlier: { shareCalls: 1 } })));
    expect(result).toMatchObject({ ok: false, error: { code: "AuthorizationFailed", status: 403 } });
    expect(!result.ok && "resumeWith" in result).toBe(false);
    expect(!result.ok && "retry" in result).toBe(false);
  });
});
