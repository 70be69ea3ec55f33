// VMs and scale sets this app makes in consumer tenants ("workloads"): what a request asks for, the
// names they get, and the summary a fan-out reports. Pure: no SDK, no I/O.
import { stableHash } from "./instanceIds";
import type { WorkloadMode } from "./tenantModel";

export type WorkloadKind = "vm" | "vmss";

/**
 * Default VM and scale-set creations in flight, across the app (VM_CREATIONS_IN_FLIGHT).
 * Microsoft's gallery guidance is one replica for every 20 VMs created at once from an image
 * version, and versions are published with one replica per region unless the publisher asks for
 * more; 10 stays well inside that, leaving room for the publisher's own deployments. Compute's
 * per-subscription create limits are far higher and, across tenants, each consumer subscription
 * has its own.
 */
export const DEFAULT_CREATIONS_IN_FLIGHT = 10;
export const MAX_CREATIONS_IN_FLIGHT = 100;

/** What an onboarding request asked for: enough to make the VM or scale set again on a new version. */
export interface WorkloadSpec {
  readonly kind: WorkloadKind;
  /** Image definition name in the gallery. */
  readonly image: string;
  /** "latest" or major.minor.patch. */
  readonly version: string;
  readonly size: string;
  readonly subnetId: string;
  readonly adminUsername: string;
  /** An OpenSSH public key: not a secret. */
  readonly sshPublicKey: string;
  /** Move to each newly shared version of the image: a VM is rebuilt, a scale set gets a new model. */
  readonly updateOnPublish: boolean;
  /** Scale sets only. */
  readonly orchestrationMode?: "Uniform" | "Flexible";
  readonly instanceCount?: number;
  readonly upgradePolicy?: "Automatic" | "Manual";
}

export interface WorkloadNames {
  readonly name: string;
  /** The VM's NIC (scale sets make their own). */
  readonly nic: string;
}

/**
 * Deterministic names: one VM and one scale set per tenant and image, so a repeated request or a
 * replayed activity finds the resource it made before instead of making another.
 */
export function workloadNames(kind: WorkloadKind, tenantId: string, image: string): WorkloadNames {
  const hash = stableHash(`${tenantId.toLowerCase()}|${image.toLowerCase()}`).slice(0, 12);
  const name = kind === "vm" ? `gs-${hash}` : `gss-${hash}`;
  return { name, nic: `${name}-nic` };
}

export function workloadResourceId(kind: WorkloadKind, consumer: { readonly subscriptionId: string; readonly resourceGroup: string }, name: string): string {
  const type = kind === "vm" ? "virtualMachines" : "virtualMachineScaleSets";
  return `/subscriptions/${consumer.subscriptionId}/resourceGroups/${consumer.resourceGroup}/providers/Microsoft.Compute/${type}/${name}`;
}

/** A VM or scale set as the registry keeps it on its tenant. */
export interface TenantWorkload {
  readonly kind: WorkloadKind;
  readonly resourceId: string;
  readonly galleryId: string;
  /** The gallery image version it runs, or was to run when `error` is set. */
  readonly imageVersion: string;
  readonly provisioningState: string;
  /** The ARM error code and message (with the missing action or linked scope) of the last attempt. */
  readonly error?: { readonly code: string; readonly message: string };
  /** The onboarding request or the publish orchestration that last changed it. */
  readonly changedBy: string;
  readonly at: string;
  /** What was asked for: what a publish needs to make it again on a new version. */
  readonly spec: WorkloadSpec;
}

/** One provisioning's end, as the registry records it and a fan-out counts it. */
export interface WorkloadOutcome {
  readonly tenantId: string;
  readonly kind: WorkloadKind;
  readonly resourceId: string;
  /** The gallery image version it runs (or was to run, when it failed). */
  readonly imageVersion: string;
  readonly provisioningState: string;
  readonly error?: { readonly code: string; readonly message: string };
}

const MAX_FAILURE_MESSAGE = 300;

/** An outcome for a provisioning that never got to ARM's answer (not started, crashed, no answer). */
export function failedOutcome(tenantId: string, kind: WorkloadKind, code: string, message: string): WorkloadOutcome {
  return { tenantId, kind, resourceId: "", imageVersion: "", provisioningState: "Unknown", error: { code, message: message.slice(0, MAX_FAILURE_MESSAGE) } };
}

/** What a publish shows of its fan-out: counts, and the first failures only (custom status is capped at 16 KB). */
export interface FanOutSummary {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly running: number;
  /** The most creations that ran at once. */
  readonly maxInFlight: number;
  readonly failures: readonly { readonly tenantId: string; readonly kind: WorkloadKind; readonly code: string; readonly message: string }[];
  /** Failures not listed (see the registry for each tenant's record). */
  readonly moreFailures: number;
}

export const MAX_LISTED_FAILURES = 20;

export function summarizeFanOut(total: number, done: readonly WorkloadOutcome[], running: number, maxInFlight: number): FanOutSummary {
  const failed = done.filter((o) => o.error !== undefined);
  return {
    total,
    succeeded: done.length - failed.length,
    failed: failed.length,
    running,
    maxInFlight,
    failures: failed.slice(0, MAX_LISTED_FAILURES).map((o) => ({
      tenantId: o.tenantId,
      kind: o.kind,
      code: o.error?.code ?? "Failed",
      message: (o.error?.message ?? "").slice(0, MAX_FAILURE_MESSAGE),
    })),
    moreFailures: Math.max(0, failed.length - MAX_LISTED_FAILURES),
  };
}

/** Orders gallery image versions (major.minor.patch) by number, as Azure's `latest` does; NaN parts sort first. */
export function compareImageVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * ARM's answer, led by what to change: the codes a VM or scale set in another tenant fails with
 * most, said in the terms of the onboarding request. Other errors pass unchanged.
 */
export function explainWorkloadError(
  error: { readonly code: string; readonly message: string; readonly missingAction?: string },
  where: {
    readonly tenantId: string;
    readonly subscriptionId: string;
    readonly resourceGroup: string;
    readonly location: string;
    readonly image: string;
    readonly version: string;
  },
): { code: string; message: string } {
  const rg = `/subscriptions/${where.subscriptionId}/resourceGroups/${where.resourceGroup}`;
  const hints: Record<string, string> = {
    InvalidAuthenticationTokenTenant: `subscription ${where.subscriptionId} does not belong to tenant ${where.tenantId}: send the onboarding request again with the tenant that owns consumer.subscriptionId, or a subscription of that tenant`,
    AuthorizationFailed: `the app lacks ${error.missingAction ?? "a permission"} in the consumer tenant: the customer grants it Contributor (or a role with that action) on ${rg}`,
    LinkedAuthorizationFailed: /join\/action/i.test(error.message)
      ? "the app may not use the subnet or NIC named in the request: the customer grants it Network Contributor (Microsoft.Network/virtualNetworks/subnets/join/action) on the subnet's virtual network"
      : "the image could not be read across tenants: the app needs Reader on the gallery in the publisher tenant and the auxiliary token of that tenant",
    GalleryImageNotFound:
      where.version === "latest"
        ? `the gallery has no version of ${where.image} in ${where.location}: check the request's image name, or the publisher replicates a version there`
        : `version ${where.version} is not replicated to ${where.location}: the publisher adds ${where.location} to the version's target regions, or the request names a version or location that has it`,
    LinkedInvalidPropertyId:
      "imageReference.id must be a gallery image version's resource id (/subscriptions/…); a /SharedGalleries/… path goes in sharedGalleryImageId",
  };
  const hint = hints[error.code];
  return { code: error.code, message: hint ? `${hint}. ARM said: ${error.message}` : error.message };
}

/** A VM or scale set of one consumer tenant, and how the app reaches it. */
export interface WorkloadTarget {
  readonly mode: WorkloadMode;
  readonly tenantId: string;
  readonly galleryId: string;
  readonly consumer: { readonly subscriptionId: string; readonly resourceGroup: string; readonly location: string };
  readonly spec: WorkloadSpec;
}

/** The input of provisionWorkload: one VM or scale set made to run an image version. */
export interface ProvisionWorkloadInput extends WorkloadTarget {
  /** The onboarding request or the publish orchestration that asks: recorded and tagged. */
  readonly changedBy: string;
  /** A publish names the version it shared; the recorded spec keeps what the request asked for ("latest"). */
  readonly version?: string;
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** The creation cap (VM_CREATIONS_IN_FLIGHT): how many creations the whole app runs at once. */
  readonly creationsInFlight?: number;
  /** Started by a publish: tell it the outcome (a sub-orchestration of onboarding returns it instead). */
  readonly notify?: WorkloadNotify;
}

/** Where a provisionWorkload started by a publish reports its end: an external event on the publish. */
export interface WorkloadNotify {
  readonly instanceId: string;
  readonly eventName: string;
  /** The workload's place in the publish's list. */
  readonly index: number;
}

export interface WorkloadNotice extends WorkloadNotify {
  readonly outcome: WorkloadOutcome;
}
