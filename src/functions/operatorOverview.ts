// What the dashboard shows on one page (GET /api/ops/overview): tenants with their mode, state,
// ring, galleries and VMs against the version they run; image versions with replication, rollout
// and promotion; what needs attention, each with what it waits for; the access matrix (gallery ×
// tenant, and how); direct-sharing limits per gallery; the latest drift report; recent operator
// actions. Built field by field from the registry and the orchestrations' statuses: nothing secret.
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { AppConfig } from "../config";
import type { Registry, TenantRecord } from "../azure/registry";
import type { OperatorAction } from "../azure/registryRecords";
import { versionKeyOf } from "../domain/instanceIds";
import { coordinatorInstanceId, PUBLISH_IMAGE_VERSION, RECONCILE_INSTANCE_ID } from "../domain/orchestrationNames";
import type { ShareCoordinatorStatus } from "../domain/shareChanges";
import { ringOf, type RolloutStatus } from "../domain/rollout";
import { isObject } from "../domain/validation";
import { summaryOf, type TenantSummaryBody } from "./registryQueries";
import { compareImageVersions } from "../domain/workloads";
import type { PublishStatus } from "../orchestrations/publishImageVersion";

const MAX_VERSIONS = 50;
const DAY_MS = 86_400_000;

export interface AttentionItem {
  readonly kind: "onboarding-failed" | "consent-pending" | "publish-failed" | "rollout-stopped" | "drift" | "in-progress";
  readonly title: string;
  /** One line: what it waits for, or what went wrong. */
  readonly detail: string;
  /** Where to look next: a tenant id or a version key. */
  readonly tenantId?: string;
  readonly versionId?: string;
}

export interface VersionSummary {
  readonly versionId: string;
  readonly imageVersionId: string;
  readonly image: string;
  readonly version: string;
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly step?: string;
  readonly replication: readonly { readonly region: string; readonly state: string; readonly progress: number }[];
  readonly rollout?: RolloutStatus;
  readonly error?: { readonly code: string; readonly message: string };
  readonly revoked?: { readonly reason: string; readonly by: string; readonly at: string };
  readonly createdTime: string;
}

/** A tenant as the registry queries show it, with its effective ring and its workloads. */
export interface TenantView extends TenantSummaryBody {
  /** The ring it is in (the last one when it has none). */
  readonly ring: number;
  readonly workloads: readonly {
    readonly kind: string;
    readonly name: string;
    readonly image: string;
    readonly version: string;
    /** The newest version of its image that is in `latest` (shared, not revoked, promoted when gated). */
    readonly latest?: string;
    readonly provisioningState: string;
    readonly error?: string;
  }[];
}

export interface Overview {
  readonly generatedFor: { readonly rings: number; readonly gatedImages: readonly string[] };
  readonly needsAttention: readonly AttentionItem[];
  readonly tenants: readonly TenantView[];
  readonly versions: readonly VersionSummary[];
  /** Gallery × tenant: how the tenant has access (its mode), per gallery. */
  readonly access: readonly {
    readonly galleryId: string;
    readonly community: boolean;
    readonly tenants: readonly { readonly tenantId: string; readonly how: string }[];
  }[];
  readonly limits: readonly {
    readonly galleryId: string;
    readonly subscriptions: number;
    readonly maxSubscriptions: number;
    readonly tenants: number;
    readonly maxTenants: number;
  }[];
  /** Share calls per subscription in Compute's windows (about 10 per 3 minutes, 60 per 30 minutes), from its share coordinator. */
  readonly shareBudget: readonly {
    readonly subscriptionId: string;
    readonly callsInLast3Minutes: number;
    readonly callsInLast30Minutes: number;
    readonly queued: number;
  }[];
  readonly drift: {
    readonly checkedAt?: string;
    readonly galleries: readonly { readonly galleryId: string; readonly community: boolean; readonly missing: number; readonly unexpected: number }[];
  };
  readonly actions: readonly OperatorAction[];
}

const lastSegment = (id: string): string => id.split("/").pop() ?? id;

function tenantView(t: TenantRecord, rings: number): TenantView {
  return {
    ...summaryOf(t),
    ring: ringOf(t.ring, rings),
    workloads: (t.workloads ?? []).map((w) => ({
      kind: w.kind,
      name: lastSegment(w.resourceId),
      image: w.spec.image,
      version: lastSegment(w.imageVersion),
      provisioningState: w.provisioningState,
      ...(w.error ? { error: `${w.error.code}: ${w.error.message}` } : {}),
    })),
  };
}

function versionSummary(s: DurableOrchestrationStatus): VersionSummary | undefined {
  // A list of instances carries no inputs: the version is in the publish's status (or its output).
  const custom = (isObject(s.customStatus) ? s.customStatus : {}) as Partial<PublishStatus>;
  const fromOutput = isObject(s.output) && typeof s.output.imageVersionId === "string" ? s.output.imageVersionId : undefined;
  const imageVersionId = custom.imageVersionId ?? fromOutput;
  if (imageVersionId === undefined) return undefined;
  const output = isObject(s.output) ? (s.output as { rollout?: RolloutStatus }) : {};
  const rollout = output.rollout ?? custom.rollout;
  const parts = imageVersionId.split("/");
  return {
    versionId: versionKeyOf(imageVersionId),
    imageVersionId,
    image: parts.at(-3) ?? "",
    version: parts.at(-1) ?? "",
    instanceId: s.instanceId,
    runtimeStatus: String(s.runtimeStatus),
    ...(custom.step ? { step: custom.step } : {}),
    replication: (custom.replication?.regions ?? []).map((r) => ({ region: r.region, state: r.state, progress: r.progress })),
    ...(rollout ? { rollout } : {}),
    ...(custom.error ? { error: { code: custom.error.code, message: custom.error.message } } : {}),
    createdTime: new Date(s.createdTime).toISOString(),
  };
}

function attention(tenants: readonly TenantView[], versions: readonly VersionSummary[], now: number): AttentionItem[] {
  const items: AttentionItem[] = [];
  for (const t of tenants) {
    if (t.state === "failed")
      items.push({ kind: "onboarding-failed", title: `${t.displayName}: onboarding failed`, detail: t.reason ?? "no reason recorded", tenantId: t.tenantId });
    if (t.state === "consent-pending") {
      const days = Math.floor((now - Date.parse(t.since)) / DAY_MS);
      items.push({
        kind: "consent-pending",
        title: `${t.displayName}: consent pending`,
        detail: `consent link sent ${days === 0 ? "today" : `${days} day${days === 1 ? "" : "s"} ago`}`,
        tenantId: t.tenantId,
      });
    }
  }
  for (const v of versions) {
    const name = `${v.image} ${v.version}`;
    if (v.runtimeStatus === "Failed")
      items.push({
        kind: "publish-failed",
        title: `${name}: publish failed`,
        detail: v.error ? `${v.error.code}: ${v.error.message}` : "see its status",
        versionId: v.versionId,
      });
    if (v.rollout?.state === "stopped" && v.rollout.stoppedBy) {
      const s = v.rollout.stoppedBy;
      items.push({
        kind: "rollout-stopped",
        title: `${name}: rollout stopped at ring ${s.ring}`,
        detail: `tenant ${s.tenantId} ${s.kind}: ${s.code}: ${s.message}`,
        versionId: v.versionId,
      });
    }
    if (v.runtimeStatus === "Running" || v.runtimeStatus === "Pending")
      items.push({ kind: "in-progress", title: name, detail: waitsFor(v), versionId: v.versionId });
  }
  return items;
}

/** What a running publish waits for, in one line. */
function waitsFor(v: VersionSummary): string {
  if (v.rollout?.waitingFor) return `${v.rollout.waitingFor}${v.rollout.until ? ` until ${v.rollout.until}` : ""}`;
  const slowest = [...v.replication].filter((r) => r.state !== "Completed").sort((a, b) => a.progress - b.progress)[0];
  if (v.step === "waiting-for-replication" && slowest) return `replication in ${slowest.region} at ${slowest.progress} %`;
  return v.step ?? "starting";
}

export async function buildOverview(client: DurableClient, registry: Registry, config: AppConfig, now: number): Promise<Overview> {
  const [storedTenants, statuses, actions, reconcile] = await Promise.all([
    registry.listTenants(),
    client.getStatusBy({}),
    registry.listOperatorActions(20),
    client.getStatus(RECONCILE_INSTANCE_ID).catch(() => undefined),
  ]);
  const tenants = storedTenants.map((s) => tenantView(s.record, config.rollout.rings)).sort((a, b) => a.displayName.localeCompare(b.displayName));
  const publishes = statuses
    .filter((s) => s.name === PUBLISH_IMAGE_VERSION)
    .sort((a, b) => new Date(b.createdTime).getTime() - new Date(a.createdTime).getTime())
    .slice(0, MAX_VERSIONS);
  // Each version's revocation, read at once (at most MAX_VERSIONS point reads).
  const summaries = publishes.map(versionSummary).filter((v): v is VersionSummary => v !== undefined);
  const versions = await Promise.all(
    summaries.map(async (v) => {
      const revoked = (await registry.getImageVersion(v.imageVersionId))?.record.revoked;
      return revoked ? { ...v, revoked } : v;
    }),
  );
  const withLatest = againstLatest(tenants, versions);
  const report: unknown = reconcile?.runtimeStatus === "Completed" ? reconcile.output : reconcile?.customStatus;
  const drift = driftOf(report);
  const access = config.galleryIds.map((galleryId) => ({
    galleryId,
    // A community gallery is public to all of Azure (as the last reconciliation found it).
    community: drift.galleries.some((g) => g.community && g.galleryId.toLowerCase() === galleryId.toLowerCase()),
    tenants: tenants
      .filter((t) => t.state === "active" && t.galleries.some((g) => g.toLowerCase() === galleryId.toLowerCase()))
      .map((t) => ({ tenantId: t.tenantId, how: t.mode })),
  }));
  const limits = await limitsOf(registry, config);
  const shareBudget = await shareBudgetOf(client, config);
  const needsAttention = [
    ...attention(tenants, versions, now),
    ...drift.galleries
      .filter((g) => g.missing + g.unexpected > 0)
      .map((g) => ({
        kind: "drift" as const,
        title: `${lastSegment(g.galleryId)}: drift`,
        detail: `${g.missing} missing, ${g.unexpected} unexpected (checked ${drift.checkedAt ?? "?"})`,
      })),
  ];
  return {
    generatedFor: { rings: config.rollout.rings, gatedImages: config.rollout.gatedImages },
    needsAttention,
    tenants: withLatest,
    versions,
    access,
    limits,
    shareBudget,
    drift,
    actions,
  };
}

/** Each workload against the newest version of its image that is in latest (shared, not revoked, promoted when gated). */
function againstLatest(tenants: readonly TenantView[], versions: readonly VersionSummary[]): TenantView[] {
  const inLatest = versions.filter(
    (v) => v.runtimeStatus === "Completed" && !v.revoked && !["pending", "withheld", "revoked"].includes(v.rollout?.promotion.state ?? ""),
  );
  const latestOf = (image: string): string | undefined =>
    inLatest
      .filter((v) => v.image.toLowerCase() === image.toLowerCase())
      .map((v) => v.version)
      .sort(compareImageVersions)
      .at(-1);
  return tenants.map((t) => ({
    ...t,
    workloads: t.workloads.map((w) => {
      const latest = latestOf(w.image);
      return latest ? { ...w, latest } : w;
    }),
  }));
}

/** Direct-sharing use per gallery: its grants plus the SHARE_* settings, against the limits. */
async function limitsOf(registry: Registry, config: AppConfig): Promise<Overview["limits"]> {
  return Promise.all(
    config.galleryIds.map(async (galleryId) => {
      const grants = await registry.listGrants(galleryId);
      return {
        galleryId,
        subscriptions: grants.filter((g) => g.kind === "subscription").length + config.shareSubscriptionIds.length,
        maxSubscriptions: config.shareLimits.maxSubscriptions,
        tenants: grants.filter((g) => g.kind === "tenant").length + config.shareTenantIds.length,
        maxTenants: config.shareLimits.maxTenants,
      };
    }),
  );
}

/** Share calls per gallery subscription, as its share coordinator counts them. */
async function shareBudgetOf(client: DurableClient, config: AppConfig): Promise<Overview["shareBudget"]> {
  const subscriptions = [...new Set(config.galleryIds.map((id) => (id.split("/")[2] ?? "").toLowerCase()))];
  return Promise.all(
    subscriptions.map(async (subscriptionId) => {
      const status = await client.getStatus(coordinatorInstanceId(subscriptionId)).catch(() => undefined);
      const c = (isObject(status?.customStatus) ? status.customStatus : {}) as Partial<ShareCoordinatorStatus>;
      return { subscriptionId, callsInLast3Minutes: c.callsInLast3Minutes ?? 0, callsInLast30Minutes: c.callsInLast30Minutes ?? 0, queued: c.queued ?? 0 };
    }),
  );
}

function driftOf(report: unknown): Overview["drift"] {
  if (!isObject(report) || !Array.isArray(report.galleries)) return { galleries: [] };
  const count = (t: unknown): number =>
    isObject(t) ? (Array.isArray(t.subscriptionIds) ? t.subscriptionIds.length : 0) + (Array.isArray(t.tenantIds) ? t.tenantIds.length : 0) : 0;
  const galleries = report.galleries.flatMap((g: unknown) =>
    isObject(g) && typeof g.galleryId === "string" && isObject(g.sharing)
      ? [{ galleryId: g.galleryId, community: g.community === true, missing: count(g.sharing.missing), unexpected: count(g.sharing.unexpected) }]
      : [],
  );
  return { ...(typeof report.checkedAt === "string" ? { checkedAt: report.checkedAt } : {}), galleries };
}
