// provisionWorkload on the local host with stub activities: no emulator, no Azurite. The real
// orchestrator runs on a virtual clock; each activity is a stub that answers what the test scripts
// and logs what it was asked, and when (clock time). This covers the creation slot (waited for on
// durable timers), a VM on another version deleted before it is made again, ARM's failure recorded
// with the error, an image that cannot be resolved, and a publish told the outcome.
// Not here: no slot for 6 hours (NoCreationSlot) takes 721 slot attempts, about 1,440 episodes whose
// history the local host serializes again each time: about 28 s, too slow for this folder.
import "../../local/host";
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import type { CreationSlotInput, ResolvedImage, StartedWorkload, StartWorkloadInput, WorkloadState } from "../../src/activities/workloads";
import type { ActivityError, ActivityResult } from "../../src/domain/activityResult";
import { PROVISION_WORKLOAD } from "../../src/domain/orchestrationNames";
import {
  workloadNames,
  workloadResourceId,
  type ProvisionWorkloadInput,
  type TenantWorkload,
  type WorkloadNotice,
  type WorkloadOutcome,
  type WorkloadSpec,
  type WorkloadTarget,
} from "../../src/domain/workloads";
import { provisionWorkload } from "../../src/orchestrations/provisionWorkload";
import { registerStubActivities } from "../support/stubActivities";

const GALLERY = "/subscriptions/5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/contoso_golden";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CONSUMER = { subscriptionId: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", resourceGroup: "contoso-vms", location: "eastus" };
const SPEC: WorkloadSpec = {
  kind: "vm",
  image: "ubuntu",
  version: "latest",
  size: "Standard_D2s_v5",
  subnetId: `/subscriptions/${CONSUMER.subscriptionId}/resourceGroups/contoso-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default`,
  adminUsername: "azureuser",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBdkqvJ9E7yW8kV2m0b1xG2Yc3A4 user@host",
  updateOnPublish: true,
};
const RESOURCE_ID = workloadResourceId("vm", CONSUMER, workloadNames("vm", TENANT, SPEC.image).name);
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

const imageOf = (version: string): ResolvedImage => {
  const imageVersion = `${GALLERY}/images/${SPEC.image}/versions/${version}`;
  return {
    version,
    imageVersion,
    imageReference: { sharedGalleryImageId: `/SharedGalleries/5d2e9c1a-contoso_golden/Images/${SPEC.image}/Versions/${version}` },
  };
};

/** What the stubs answer: functions of the call's number (0-based); the scripts are set per test. */
interface Script {
  resolve: ActivityResult<ResolvedImage>;
  slot: (n: number) => boolean;
  start: (n: number) => StartedWorkload["phase"];
  /** Readings in order; the last one repeats. */
  reads: WorkloadState[];
  /** A permanent error startWorkload / readWorkload answer with instead. */
  startError?: ActivityError;
  readError?: ActivityError;
}
let script: Script;
/** Every stub call: name, clock time, input. */
let calls: { name: string; at: number; input: unknown }[] = [];
/** The instance's custom status, as seen by each acquireCreationSlot call (before the call's answer). */
let statusAtSlot: unknown[] = [];
let currentId = "";

const log = (name: string, input: unknown): number => {
  const n = calls.filter((c) => c.name === name).length;
  calls.push({ name, at: clock.now(), input });
  return n;
};

df.app.orchestration(PROVISION_WORKLOAD, provisionWorkload);
registerStubActivities({
  resolveWorkloadImage: (target) => {
    log("resolveWorkloadImage", target);
    return script.resolve;
  },
  acquireCreationSlot: (input) => {
    statusAtSlot.push(host.durable.getStatus(currentId)?.customStatus);
    return { ok: true, value: { granted: script.slot(log("acquireCreationSlot", input)) } };
  },
  startWorkload: (input) => {
    const n = log("startWorkload", input);
    return script.startError ? { ok: false, error: script.startError } : { ok: true, value: { phase: script.start(n), resourceId: RESOURCE_ID } };
  },
  readWorkload: (target) => {
    const n = log("readWorkload", target);
    return script.readError ? { ok: false, error: script.readError } : { ok: true, value: script.reads[Math.min(n, script.reads.length - 1)]! };
  },
  releaseCreationSlot: (input) => {
    log("releaseCreationSlot", input);
    return { ok: true, value: { released: true } };
  },
  recordTenantWorkload: (input) => {
    log("recordTenantWorkload", input);
    return { ok: true, value: { workloads: 1 } };
  },
  notifyWorkloadDone: (input) => {
    log("notifyWorkloadDone", input);
    return { ok: true, value: { delivered: true } };
  },
});

let host: LocalHost;
let clock: VirtualClock;
beforeAll(async () => {
  clock = new VirtualClock(T0);
  host = await startLocalHost({ load: async () => undefined, settings: { TASK_HUB_NAME: "ProvisionStubHub" }, clock });
});
afterAll(async () => {
  await host?.close();
});

const baseScript = (over: Partial<Script> = {}): Script => ({
  resolve: { ok: true, value: imageOf("1.2.0") },
  slot: () => true,
  start: () => "creating",
  reads: [
    { exists: true, provisioningState: "Creating" },
    { exists: true, provisioningState: "Succeeded" },
  ],
  ...over,
});

async function provision(id: string, s: Script, extra: Partial<ProvisionWorkloadInput> = {}) {
  script = s;
  calls = [];
  statusAtSlot = [];
  currentId = id;
  const started = clock.now();
  const input: ProvisionWorkloadInput = {
    mode: "direct",
    tenantId: TENANT,
    galleryId: GALLERY,
    consumer: CONSUMER,
    spec: SPEC,
    changedBy: "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f",
    retry: { attempts: 3, firstSeconds: 5 },
    ...extra,
  };
  await host.durable.startNew(PROVISION_WORKLOAD, { instanceId: id, input });
  const status = await host.durable.waitFor(id, undefined, { maxSimulatedMs: 2 * 3600_000 });
  return { status, started, output: status.output as WorkloadOutcome };
}

const namesOf = () => calls.map((c) => c.name);
const inputsOf = <T>(name: string): T[] => calls.filter((c) => c.name === name).map((c) => c.input as T);
const timesOf = (name: string, started: number): number[] => calls.filter((c) => c.name === name).map((c) => c.at - started);
const recorded = (): TenantWorkload => {
  const all = inputsOf<{ tenantId: string; workload: TenantWorkload }>("recordTenantWorkload");
  expect(all).toHaveLength(1);
  expect(all[0]!.tenantId).toBe(TENANT);
  return all[0]!.workload;
};

describe("provisionWorkload with stub activities", () => {
  it("resolves, takes a slot, starts, reads until Succeeded, frees the slot, records and returns the outcome", async () => {
    const { status, started, output } = await provision("pw-happy", baseScript(), { creationsInFlight: 4 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(namesOf()).toEqual([
      "resolveWorkloadImage",
      "acquireCreationSlot",
      "startWorkload",
      "readWorkload",
      "readWorkload",
      "releaseCreationSlot",
      "recordTenantWorkload",
    ]);
    const version = imageOf("1.2.0").imageVersion;
    expect(output).toEqual({ tenantId: TENANT, kind: "vm", resourceId: RESOURCE_ID, imageVersion: version, provisioningState: "Succeeded" });
    // The target the activities see; the slot's lease runs 90 minutes from orchestration time, with the cap given.
    expect(inputsOf<WorkloadTarget>("resolveWorkloadImage")[0]).toEqual({
      mode: "direct",
      tenantId: TENANT,
      galleryId: GALLERY,
      consumer: CONSUMER,
      spec: SPEC,
    });
    expect(inputsOf<CreationSlotInput>("acquireCreationSlot")).toEqual([
      { holder: "pw-happy", now: new Date(started).toISOString(), until: new Date(started + 90 * 60_000).toISOString(), creationsInFlight: 4 },
    ]);
    expect(inputsOf<StartWorkloadInput>("startWorkload")[0]).toMatchObject({
      changedBy: "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f",
      image: imageOf("1.2.0"),
      spec: SPEC,
    });
    // The first read after 30 s, then every 15 s: it ends at the second read.
    expect(timesOf("readWorkload", started)).toEqual([30_000, 45_000]);
    expect(inputsOf<{ holder: string }>("releaseCreationSlot")).toEqual([{ holder: "pw-happy" }]);
    expect(recorded()).toEqual({
      kind: "vm",
      resourceId: RESOURCE_ID,
      galleryId: GALLERY,
      imageVersion: version,
      provisioningState: "Succeeded",
      changedBy: "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f",
      at: new Date(started + 45_000).toISOString(),
      spec: SPEC,
    });
    expect(status.customStatus).toEqual({ step: "done", ...output });
    expect(clock.now() - started).toBe(45_000);
  });

  it("waits for a creation slot on 30 s durable timers, showing it waits, then goes on", async () => {
    const { output, started } = await provision("pw-slot-wait", baseScript({ slot: (n) => n >= 2 }));
    expect(output.provisioningState).toBe("Succeeded");
    expect(timesOf("acquireCreationSlot", started)).toEqual([0, 30_000, 60_000]);
    // The lease is asked from each attempt's time.
    expect(inputsOf<CreationSlotInput>("acquireCreationSlot").map((i) => Date.parse(i.until) - Date.parse(i.now))).toEqual([5_400_000, 5_400_000, 5_400_000]);
    // The default cap when the input names none.
    expect(inputsOf<CreationSlotInput>("acquireCreationSlot")[0]!.creationsInFlight).toBe(10);
    expect(statusAtSlot[1]).toMatchObject({ step: "waiting-for-slot", resourceId: RESOURCE_ID, round: 1, creationsInFlight: 10 });
    expect(timesOf("startWorkload", started)).toEqual([60_000]);
    expect(timesOf("readWorkload", started)).toEqual([90_000, 105_000]);
  });

  it("deletes a VM on another version first, waits until it is gone, then makes it again in the next round", async () => {
    const { output, started } = await provision(
      "pw-rebuild",
      baseScript({
        start: (n) => (n === 0 ? "deleting" : "creating"),
        reads: [
          { exists: true, provisioningState: "Deleting" },
          { exists: false },
          { exists: true, provisioningState: "Creating" },
          { exists: true, provisioningState: "Succeeded" },
        ],
      }),
    );
    expect(output).toMatchObject({ provisioningState: "Succeeded", resourceId: RESOURCE_ID });
    expect(output.error).toBeUndefined();
    expect(namesOf()).toEqual([
      "resolveWorkloadImage",
      "acquireCreationSlot",
      "startWorkload",
      "readWorkload",
      "readWorkload",
      "acquireCreationSlot",
      "startWorkload",
      "readWorkload",
      "readWorkload",
      "releaseCreationSlot",
      "recordTenantWorkload",
    ]);
    // Round one: gone at its second read (45 s); round two starts then, and succeeds 45 s later.
    expect(timesOf("startWorkload", started)).toEqual([0, 45_000]);
    expect(timesOf("readWorkload", started)).toEqual([30_000, 45_000, 75_000, 90_000]);
    // The slot is renewed for the second round, from that round's time.
    expect(inputsOf<CreationSlotInput>("acquireCreationSlot")[1]!.now).toBe(new Date(started + 45_000).toISOString());
  });

  it("records ARM's error, explained, when the VM ends Failed; the outcome names the code", async () => {
    const armError = {
      code: "AuthorizationFailed",
      message: "The client does not have authorization to perform action 'Microsoft.Compute/virtualMachines/write'",
    };
    const { status, output } = await provision("pw-failed", baseScript({ reads: [{ exists: true, provisioningState: "Failed", error: armError }] }));
    expect(status.runtimeStatus).toBe("Completed");
    expect(output.provisioningState).toBe("Failed");
    expect(output.error?.code).toBe("AuthorizationFailed");
    // Led by what to fix, with ARM's own words after it.
    expect(output.error?.message).toContain(`/subscriptions/${CONSUMER.subscriptionId}/resourceGroups/${CONSUMER.resourceGroup}`);
    expect(output.error?.message).toContain(`ARM said: ${armError.message}`);
    const workload = recorded();
    expect(workload.provisioningState).toBe("Failed");
    expect(workload.error).toEqual(output.error);
    expect(namesOf().at(-2)).toBe("releaseCreationSlot");
  });

  it("names the end state when ARM ends an operation without an error (Canceled)", async () => {
    const { output } = await provision("pw-canceled", baseScript({ reads: [{ exists: true, provisioningState: "Canceled" }] }));
    expect(output.provisioningState).toBe("Canceled");
    expect(output.error).toEqual({ code: "ProvisioningCanceled", message: `ARM ended the create of ${RESOURCE_ID} Canceled` });
  });

  it("gives up with ProvisioningIncomplete when every round only deletes (three rounds)", async () => {
    const { output } = await provision("pw-never-settles", baseScript({ start: () => "deleting", reads: [{ exists: false }] }));
    expect(output).toMatchObject({
      provisioningState: "Unknown",
      error: { code: "ProvisioningIncomplete", message: `${RESOURCE_ID} was deleted and made again 3 times without settling` },
    });
    expect(namesOf().filter((n) => n === "startWorkload")).toHaveLength(3);
    expect(namesOf().filter((n) => n === "acquireCreationSlot")).toHaveLength(3);
  });

  it("ends Unknown with the reason when the operation cannot be followed: a failed delete, a VM gone, a read refused", async () => {
    const deleteFailed = await provision("pw-delete-failed", baseScript({ start: () => "deleting", reads: [{ exists: true, provisioningState: "Failed" }] }));
    expect(deleteFailed.output).toMatchObject({ provisioningState: "Unknown", error: { code: "DeleteFailed" } });
    expect(namesOf().filter((n) => n === "startWorkload")).toHaveLength(1);

    const gone = await provision("pw-gone", baseScript({ reads: [{ exists: true, provisioningState: "Creating" }, { exists: false }] }));
    expect(gone.output).toMatchObject({
      provisioningState: "Unknown",
      error: { code: "ResourceNotFound", message: `${RESOURCE_ID} disappeared while it was being made` },
    });

    const refused = await provision("pw-read-refused", baseScript({ readError: { code: "AuthorizationFailed", status: 403, message: "no read on the VM" } }));
    expect(refused.output).toMatchObject({ provisioningState: "Unknown", error: { code: "AuthorizationFailed" } });
    expect(refused.output.error?.message).toContain("ARM said: no read on the VM");
    expect(recorded()).toMatchObject({ provisioningState: "Unknown", imageVersion: imageOf("1.2.0").imageVersion });
  });

  it("records a refused PUT as NotStarted with ARM's error, and frees the slot", async () => {
    const { output } = await provision(
      "pw-put-refused",
      baseScript({ startError: { code: "SkuNotAvailable", status: 409, message: "Standard_D2s_v5 is not available in eastus" } }),
    );
    expect(output).toMatchObject({
      provisioningState: "NotStarted",
      error: { code: "SkuNotAvailable", message: "Standard_D2s_v5 is not available in eastus" },
    });
    expect(namesOf()).toEqual(["resolveWorkloadImage", "acquireCreationSlot", "startWorkload", "releaseCreationSlot", "recordTenantWorkload"]);
  });

  it("finishes without a slot or a PUT when the image cannot be resolved, recording it against what was asked", async () => {
    const { status, output } = await provision(
      "pw-no-image",
      baseScript({ resolve: { ok: false, error: { code: "GalleryNotShared", message: "the consumer tenant does not see contoso_golden" } } }),
    );
    expect(status.runtimeStatus).toBe("Completed");
    expect(namesOf()).toEqual(["resolveWorkloadImage", "releaseCreationSlot", "recordTenantWorkload"]);
    const asked = `${GALLERY}/images/${SPEC.image}/versions/latest`;
    expect(output).toEqual({
      tenantId: TENANT,
      kind: "vm",
      resourceId: RESOURCE_ID,
      imageVersion: asked,
      provisioningState: "NotStarted",
      error: { code: "GalleryNotShared", message: "the consumer tenant does not see contoso_golden" },
    });
    expect(recorded()).toMatchObject({ imageVersion: asked, provisioningState: "NotStarted", error: { code: "GalleryNotShared" } });
  });

  it("tells the publish that started it the outcome, for the version it names, keeping the spec's 'latest'", async () => {
    const notify = { instanceId: "publish-1", eventName: "WorkloadDone", index: 3 };
    const { output } = await provision("pw-notify", baseScript({ resolve: { ok: true, value: imageOf("2.0.0") } }), { version: "2.0.0", notify });
    expect(output.provisioningState).toBe("Succeeded");
    expect(inputsOf<WorkloadTarget>("resolveWorkloadImage")[0]!.spec.version).toBe("2.0.0");
    expect(recorded().spec.version).toBe("latest");
    expect(inputsOf<WorkloadNotice>("notifyWorkloadDone")).toEqual([{ ...notify, outcome: output }]);
    expect(namesOf().slice(-3)).toEqual(["releaseCreationSlot", "recordTenantWorkload", "notifyWorkloadDone"]);
  });
});
