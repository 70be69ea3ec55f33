// Whether an image version is ready to share, from one `$expand=ReplicationStatus` read.
// A version is usable in a region only once that region's replication completed, so the verdict
// errs on the side of "not yet": a target region missing from the summary, an unknown state or an
// aggregated state other than Completed never reads as complete. Failures win over everything.

interface RegionReplicationStatus {
  region?: string;
  state?: string;
  details?: string;
  progress?: number;
}

export interface ImageVersionSnapshot {
  provisioningState?: string;
  /** `publishingProfile.targetRegions[].name`, as ARM returns them (display names such as "East US 2"). */
  targetRegions: string[];
  replicationStatus?: { aggregatedState?: string; summary?: RegionReplicationStatus[] };
}

export interface RegionProgress {
  region: string;
  state: "Unknown" | "Replicating" | "Completed" | "Failed";
  /** 0-100. */
  progress: number;
  details?: string;
}

export type ReplicationVerdict =
  | { state: "Pending"; reason: string; regions: RegionProgress[] }
  | { state: "Replicating"; regions: RegionProgress[] }
  | { state: "Completed"; regions: RegionProgress[] }
  | { state: "Failed"; regions: RegionProgress[]; failedRegions: { region: string; details: string }[]; details: string };

/** ARM mixes display names and programmatic names: "East US 2" == "eastus2". */
function sameRegion(a: string, b: string): boolean {
  return regionKey(a) === regionKey(b);
}

function regionKey(region: string): string {
  return region.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function is(value: string | undefined, expected: string): boolean {
  return value !== undefined && value.toLowerCase() === expected.toLowerCase();
}

const REGION_STATES: readonly RegionProgress["state"][] = ["Replicating", "Completed", "Failed"];

function regionState(state: string | undefined): RegionProgress["state"] {
  return REGION_STATES.find((s) => is(state, s)) ?? "Unknown";
}

function clampProgress(progress: number | undefined): number {
  if (progress === undefined || !Number.isFinite(progress)) return 0;
  return Math.min(100, Math.max(0, progress));
}

const UNNAMED_REGION = "(unnamed region)";

function toProgress(region: string, status: RegionReplicationStatus | undefined): RegionProgress {
  const state = regionState(status?.state);
  return {
    region,
    state,
    progress: state === "Completed" ? 100 : clampProgress(status?.progress),
    ...(status?.details ? { details: status.details } : {}),
  };
}

/** One entry per target region in targetRegions order, then any region only the summary names. */
function regionProgress(v: ImageVersionSnapshot): RegionProgress[] {
  const summary = v.replicationStatus?.summary ?? [];
  const targets = v.targetRegions.map((region) =>
    toProgress(
      region,
      summary.find((s) => s.region !== undefined && sameRegion(s.region, region)),
    ),
  );
  const extras = summary
    .filter((s) => s.region === undefined || !v.targetRegions.some((t) => sameRegion(t, s.region ?? "")))
    .map((s) => toProgress(s.region ?? UNNAMED_REGION, s));
  return [...targets, ...extras];
}

function failed(regions: RegionProgress[], details: string): ReplicationVerdict {
  const failedRegions = regions.filter((r) => r.state === "Failed").map((r) => ({ region: r.region, details: r.details ?? "no details reported" }));
  return { state: "Failed", regions, failedRegions, details };
}

export function replicationVerdict(v: ImageVersionSnapshot): ReplicationVerdict {
  const regions = regionProgress(v);
  const status = v.replicationStatus;
  const failedNames = regions.filter((r) => r.state === "Failed").map((r) => r.region);

  if (is(v.provisioningState, "Failed")) {
    const where = failedNames.length > 0 ? `; replication failed in ${failedNames.join(", ")}` : "";
    return failed(regions, `the image version's provisioningState is Failed${where}`);
  }
  // A version being deleted will never become usable: waiting for it would only time out.
  if (is(v.provisioningState, "Deleting")) return failed(regions, "the image version is being deleted");
  if (failedNames.length > 0) return failed(regions, `replication failed in ${failedNames.join(", ")}`);
  if (is(status?.aggregatedState, "Failed")) {
    return failed(regions, "the aggregated replication state is Failed although no region reported a failure");
  }

  if (status === undefined) {
    return { state: "Pending", reason: "no replication status was reported (read the version with $expand=ReplicationStatus)", regions };
  }
  if ((status.summary ?? []).length === 0) {
    return { state: "Pending", reason: `no region has reported replication yet (provisioningState ${v.provisioningState ?? "not reported"})`, regions };
  }

  // Target regions missing from the summary are in `regions` as Unknown, so they block completion.
  const everyRegionCompleted = regions.every((r) => r.state === "Completed");
  // Creating/Updating/Migrating mean ARM itself is not finished with the version yet.
  const provisioned = v.provisioningState === undefined || is(v.provisioningState, "Succeeded");
  if (is(status.aggregatedState, "Completed") && everyRegionCompleted && provisioned) return { state: "Completed", regions };
  return { state: "Replicating", regions };
}
