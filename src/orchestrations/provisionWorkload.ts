// provisionWorkload: makes sure one VM or scale set of a consumer tenant runs the image version asked for,
// and records the result on the tenant in the registry. Onboarding (a request with `vm` or `vmss`)
// calls it as a sub-orchestration; a publish starts one per VM or scale set that follows new
// versions, and each tells the publish its outcome (`notify`).
//   1. resolve the version (`latest` = the highest replicated to the consumer's region) and how the
//      VM names it (sharedGalleryImageId in direct mode, the version's id in rbac mode);
//   2. take one of VM_CREATIONS_IN_FLIGHT slots (shared by the whole app), then send the PUT (a VM
//      built from another version is deleted first: its image cannot change);
//   3. follow the operation to its end, reading the resource on durable timers;
//   4. record the VM or scale set, or ARM's error with what to fix, and return the outcome.
// It never throws for Azure's answers: the caller counts outcomes, and one tenant's failure does
// not stop the others.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { WorkloadState } from "../activities/workloads";
import type { ActivityError } from "../domain/activityResult";
import { provisionInputProblems } from "../domain/durablePayloads";
import { PROVISION_WORKLOAD } from "../domain/orchestrationNames";
import { retryPolicyOf, type RetryPolicy } from "../domain/retryPolicy";
import {
  DEFAULT_CREATIONS_IN_FLIGHT,
  explainWorkloadError,
  workloadNames,
  workloadResourceId,
  type ProvisionWorkloadInput,
  type WorkloadOutcome,
  type WorkloadTarget,
} from "../domain/workloads";
import { activities } from "./activities";
import { checkedInput } from "./checkedInput";

/** VM and scale-set creates take one to a few minutes: the first read after 30 s, then every 15 s, for at most an hour. */
const FIRST_READ_SECONDS = 30;
const READ_EVERY_SECONDS = 15;
const MAX_READS = 240;
/** Delete then create (a VM moving to a new version) is two rounds; one more covers a create that raced a delete. */
const MAX_ROUNDS = 3;
/** A slot's lease: longer than one round can take (an hour of reads, plus retries); renewed each round. */
const SLOT_LEASE_MS = 90 * 60_000;
/** While every slot is taken, look again every 30 s, for at most 6 hours. */
const SLOT_WAIT_SECONDS = 30;
const MAX_SLOT_WAITS = 720;

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

export const provisionWorkload: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = checkedInput<ProvisionWorkloadInput>(context, provisionInputProblems);
  const run = startRun(context, input);
  const { retry, target, spec, resourceId } = run;
  // What was asked for, "latest" included (a failure before the version is known is recorded against it).
  const asked = `${input.galleryId}/images/${spec.image}/versions/${spec.version}`;

  const image = yield* activities.resolveWorkloadImage(context, target, retry);
  if (!image.ok) return yield* finish(run, asked, "NotStarted", image.error);
  const version = image.value.imageVersion;

  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const slot = yield* takeSlot(run, version, round);
    if (!slot.ok) return yield* finish(run, version, "NotStarted", slot.error);
    context.df.setCustomStatus({ step: "starting", resourceId, imageVersion: version, round });
    const started = yield* activities.startWorkload(context, { ...target, changedBy: input.changedBy, image: image.value }, retry);
    if (!started.ok) return yield* finish(run, version, "NotStarted", started.error);
    context.df.setCustomStatus({ step: started.value.phase, resourceId, imageVersion: version, round });

    const state = yield* followToEnd(run, started.value.phase === "deleting");
    if (!state.ok) return yield* finish(run, version, "Unknown", state.error);
    if (started.value.phase === "deleting") continue;
    const end = state.value.provisioningState ?? "Unknown";
    if (end.toLowerCase() === "succeeded") return yield* finish(run, version, end);
    return yield* finish(
      run,
      version,
      end,
      state.value.error ?? {
        code: `Provisioning${end}`,
        message: `ARM ended the ${started.value.phase === "creating" ? "create" : "update"} of ${resourceId} ${end}`,
      },
    );
  }
  return yield* finish(run, version, "Unknown", {
    code: "ProvisioningIncomplete",
    message: `${resourceId} was deleted and made again ${MAX_ROUNDS} times without settling`,
  });
};

/** One run of the orchestration: its input, and the VM or scale set it makes. */
interface Run {
  readonly context: OrchestrationContext;
  readonly input: ProvisionWorkloadInput;
  readonly retry: RetryPolicy;
  /** The spec with the version a publish names. */
  readonly spec: WorkloadTarget["spec"];
  readonly target: WorkloadTarget;
  readonly resourceId: string;
}

function startRun(context: OrchestrationContext, input: ProvisionWorkloadInput): Run {
  const spec = input.version === undefined ? input.spec : { ...input.spec, version: input.version };
  const target: WorkloadTarget = { mode: input.mode, tenantId: input.tenantId, galleryId: input.galleryId, consumer: input.consumer, spec };
  const resourceId = workloadResourceId(spec.kind, input.consumer, workloadNames(spec.kind, input.tenantId, input.spec.image).name);
  return { context, input, retry: retryPolicyOf(input.retry), spec, target, resourceId };
}

/** A creation slot (VM_CREATIONS_IN_FLIGHT across the app), waited for on durable timers; holding one renews its lease. */
function* takeSlot(run: Run, imageVersion: string, round: number): Generator<df.Task, { ok: true } | { ok: false; error: ActivityError }, unknown> {
  const { context, input, retry, resourceId } = run;
  const creationsInFlight = input.creationsInFlight ?? DEFAULT_CREATIONS_IN_FLIGHT;
  for (let wait = 0; wait <= MAX_SLOT_WAITS; wait++) {
    const now = context.df.currentUtcDateTime.getTime();
    const got = yield* activities.acquireCreationSlot(
      context,
      { holder: context.df.instanceId, now: new Date(now).toISOString(), until: new Date(now + SLOT_LEASE_MS).toISOString(), creationsInFlight },
      retry,
    );
    if (!got.ok) return got;
    if (got.value.granted) return { ok: true };
    if (wait === 0) context.df.setCustomStatus({ step: "waiting-for-slot", resourceId, imageVersion, round, creationsInFlight });
    yield context.df.createTimer(new Date(now + SLOT_WAIT_SECONDS * 1000));
  }
  return {
    ok: false,
    error: {
      code: "NoCreationSlot",
      message: `all ${creationsInFlight} creation slots (VM_CREATIONS_IN_FLIGHT) stayed busy for ${(SLOT_WAIT_SECONDS * MAX_SLOT_WAITS) / 3600} hours`,
    },
  };
}

/** Reads the resource on durable timers until its operation ends (or, after a delete, until it is gone). */
function* followToEnd(run: Run, untilGone: boolean): Generator<df.Task, { ok: true; value: WorkloadState } | { ok: false; error: ActivityError }, unknown> {
  const { context, retry, target, resourceId } = run;
  for (let read = 0; read < MAX_READS; read++) {
    const wait = read === 0 ? FIRST_READ_SECONDS : READ_EVERY_SECONDS;
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + wait * 1000));
    const seen = yield* activities.readWorkload(context, target, retry);
    if (!seen.ok) return seen;
    if (untilGone ? !seen.value.exists : TERMINAL.has((seen.value.provisioningState ?? "").toLowerCase())) return { ok: true, value: seen.value };
    if (untilGone && seen.value.provisioningState?.toLowerCase() === "failed")
      return { ok: false, error: { code: "DeleteFailed", message: `ARM could not delete ${resourceId} to rebuild it on the new version` } };
    if (!untilGone && !seen.value.exists)
      return { ok: false, error: { code: "ResourceNotFound", message: `${resourceId} disappeared while it was being made` } };
  }
  return {
    ok: false,
    error: {
      code: "ProvisioningTimeout",
      message: `${resourceId} did not finish within ${Math.round((FIRST_READ_SECONDS + READ_EVERY_SECONDS * MAX_READS) / 60)} minutes`,
    },
  };
}

/** Records the result on the tenant and returns it; the error is said in the request's terms. */
function* finish(run: Run, imageVersion: string, provisioningState: string, error?: ActivityError): Generator<df.Task, WorkloadOutcome, unknown> {
  const { context, input, retry, spec, resourceId } = run;
  const { kind } = spec;
  // The slot first: a failure to record must not keep another tenant waiting (an unfreed slot's lease runs out anyway).
  const freed = yield* activities.releaseCreationSlot(context, { holder: context.df.instanceId }, retry);
  if (!freed.ok) context.log(`${PROVISION_WORKLOAD}: creation slot of ${resourceId} not freed: ${freed.error.message}`);
  const where = { tenantId: input.tenantId, ...input.consumer, image: spec.image, version: imageVersion.split("/").pop() ?? "" };
  const explained = error ? explainWorkloadError(error, where) : undefined;
  const outcome: WorkloadOutcome = {
    tenantId: input.tenantId,
    kind,
    resourceId,
    imageVersion,
    provisioningState,
    ...(explained ? { error: explained } : {}),
  };
  const workload = {
    kind,
    resourceId,
    galleryId: input.galleryId,
    imageVersion,
    provisioningState,
    changedBy: input.changedBy,
    at: context.df.currentUtcDateTime.toISOString(),
    spec: input.spec,
    ...(explained ? { error: explained } : {}),
  };
  const recorded = yield* activities.recordTenantWorkload(context, { tenantId: input.tenantId, workload }, retry);
  if (!recorded.ok) context.log(`${PROVISION_WORKLOAD}: ${resourceId} not recorded: ${recorded.error.message}`);
  if (input.notify) {
    const told = yield* activities.notifyWorkloadDone(context, { ...input.notify, outcome }, retry);
    if (!told.ok) context.log(`${PROVISION_WORKLOAD}: ${input.notify.instanceId} not told of ${resourceId}: ${told.error.message}`);
  }
  context.df.setCustomStatus({ step: "done", ...outcome });
  return outcome;
}
