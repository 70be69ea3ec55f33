import { describe, expect, it } from "vitest";
import {
  coordinatorStateProblems,
  offboardInputProblems,
  onboardInputProblems,
  provisionInputProblems,
  publishInputProblems,
  readConsentDenied,
  readShareChange,
  readShareChangeResult,
  readWorkloadNotice,
  readWorkloadOutcome,
} from "../../src/domain/durablePayloads";

const GALLERY = "/subscriptions/5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const none = { subscriptionIds: [], tenantIds: [] };
const change = { requestId: "r1", galleryId: GALLERY, add: { tenantIds: [TENANT] }, replyTo: { instanceId: "onboard-1", eventName: "ShareResult.0" } };
const answer = {
  requestId: "r1",
  result: "applied",
  added: { subscriptionIds: [], tenantIds: [TENANT] },
  alreadyShared: none,
  removed: none,
  shareCalls: 1,
  at: "2026-01-01T00:00:00.000Z",
};
const outcome = {
  tenantId: TENANT,
  kind: "vm",
  resourceId: "/subscriptions/x/vm",
  imageVersion: `${GALLERY}/images/u/versions/1.0.0`,
  provisioningState: "Succeeded",
};

describe("event payloads", () => {
  it("reads a share change, keeping only its own fields", () => {
    expect(readShareChange({ ...change, extra: "dropped" })).toEqual(change);
    expect(readShareChange({ ...change, ensureRegistered: true, encrypted: false })).toEqual({ ...change, ensureRegistered: true, encrypted: false });
  });

  it.each([
    ["no reply address", { ...change, replyTo: undefined }],
    ["an empty request id", { ...change, requestId: " " }],
    ["ids that are not strings", { ...change, add: { tenantIds: [42] } }],
    ["a flag that is not a boolean", { ...change, ensureRegistered: "yes" }],
    ["not an object", "ShareChange"],
  ])("refuses a share change with %s", (_what, value) => {
    expect(readShareChange(value)).toBeUndefined();
  });

  it("reads the coordinator's answer to this change only, with Azure's error as it was", () => {
    expect(readShareChangeResult(answer, "r1")).toEqual(answer);
    expect(readShareChangeResult(answer, "r2")).toBeUndefined();
    const failed = {
      ...answer,
      result: "failed",
      error: { code: "AuthorizationFailed", status: 403, message: "no", missingAction: "Microsoft.Compute/galleries/share/action", secret: "x" },
    };
    expect(readShareChangeResult(failed, "r1")?.error).toEqual({
      code: "AuthorizationFailed",
      status: 403,
      message: "no",
      missingAction: "Microsoft.Compute/galleries/share/action",
    });
    expect(readShareChangeResult({ ...answer, result: "maybe" }, "r1")).toBeUndefined();
    expect(readShareChangeResult({ ...answer, added: { tenantIds: [TENANT] } }, "r1")).toBeUndefined();
    expect(readShareChangeResult({ ...answer, error: { code: "", message: "m" } }, "r1")).toBeUndefined();
  });

  it("reads a workload notice and outcome, and refuses what is not one", () => {
    expect(readWorkloadNotice({ index: 3, outcome })).toEqual({ index: 3, outcome });
    expect(readWorkloadNotice({ index: -1, outcome })).toBeUndefined();
    expect(readWorkloadNotice({ index: 1, outcome: { ...outcome, kind: "container" } })).toBeUndefined();
    expect(readWorkloadOutcome({ ...outcome, error: { code: "QuotaExceeded", message: "m" } })).toBeDefined();
    expect(readWorkloadOutcome({ ...outcome, error: "QuotaExceeded" })).toBeUndefined();
  });

  it("reads a consent refusal", () => {
    expect(readConsentDenied({ tenantId: TENANT, error: "access_denied", description: "declined" })).toEqual({
      tenantId: TENANT,
      error: "access_denied",
      description: "declined",
    });
    expect(readConsentDenied({ tenantId: TENANT })).toBeUndefined();
  });
});

describe("orchestration inputs", () => {
  const retry = { attempts: 3, firstSeconds: 5 };
  it("names every problem of an onboarding input", () => {
    expect(
      onboardInputProblems({
        message: { requestId: "r", tenantId: TENANT, mode: "direct", galleries: [GALLERY] },
        consent: { expiryHours: 72, reminderHours: 24 },
        retry,
      }),
    ).toEqual([]);
    expect(
      onboardInputProblems({ message: { tenantId: TENANT, mode: "ftp", galleries: "g" }, consent: {}, retry: { attempts: 0 }, creationsInFlight: 1000 }),
    ).toEqual([
      "message.requestId is required",
      "message.mode must be one of direct, rbac, principal",
      "message.galleries must be a list of gallery ids",
      "consent must have whole expiryHours from 1 to 2160 and reminderHours from 1 to 720",
      "retry must have whole attempts from 1 to 20 and firstSeconds from 1 to 3600",
      "creationsInFlight must be a whole number from 1 to 100",
    ]);
  });

  it("checks the other orchestrations' inputs", () => {
    expect(offboardInputProblems({ message: { requestId: "r", tenantId: TENANT }, retry })).toEqual([]);
    expect(offboardInputProblems(undefined)).toEqual([
      "message must be an object",
      "retry must have whole attempts from 1 to 20 and firstSeconds from 1 to 3600",
    ]);
    expect(
      publishInputProblems({
        imageVersionId: `${GALLERY}/images/u/versions/1.0.0`,
        polling: { minSeconds: 30, maxSeconds: 900, timeoutMinutes: 60 },
        retry,
        trigger: { eventId: "e" },
      }),
    ).toEqual([]);
    expect(publishInputProblems({})).toHaveLength(4);
    expect(provisionInputProblems({ mode: "principal" })).toContain("mode must be direct or rbac");
    expect(coordinatorStateProblems({ subscriptionId: "s", pending: [change], callTimes: [1], recent: [], retry })).toEqual([]);
    expect(coordinatorStateProblems({ subscriptionId: "s", pending: [{ requestId: "r" }], callTimes: [], recent: [], retry })).toEqual([
      "pending must be a list of share changes",
    ]);
  });
});
