// Image version replication on the shared clock. Nothing runs in the background: every read
// computes each region's state from clock.now(). The home (gallery) region replicates first, as
// Azure requires the version to exist there before it is copied; the other regions then replicate
// in parallel. Each region takes `minutesPerRegion` ± `jitter` (seeded per version and region), or
// exactly `regionMinutes[region]`; a region listed in `failRegions` fails halfway through.
import type { Core } from "../core";
import type { OpError, ProbeResult } from "../lro";
import type { GalleryImageVersion, RegionReplication } from "../store";
import { hashUnit } from "../util/rng";
import { findRegion, type Region } from "./regions";

export interface TargetRegionInput {
  region: Region;
  regionalReplicaCount: number;
  storageAccountType: string;
  encryption?: unknown;
  excludeFromLatest?: boolean;
}

export interface ReplicationScript {
  /** Exact minutes per region (by name or display name), no jitter. */
  regionMinutes?: Record<string, number>;
  /** Regions that fail, with the details text Azure would report. */
  failRegions?: Record<string, string>;
}

function lookup<T>(map: Record<string, T> | undefined, region: Region): T | undefined {
  if (!map) return undefined;
  for (const [k, v] of Object.entries(map)) if (findRegion(k)?.name === region.name) return v;
  return undefined;
}

function durationMs(core: Core, versionKey: string, region: Region, script: ReplicationScript): number {
  const exact = lookup(script.regionMinutes, region);
  if (exact !== undefined) return Math.max(0, exact) * 60_000;
  const { minutesPerRegion, jitter } = core.config.replication;
  const u = hashUnit(core.config.seed, "replication", versionKey, region.name);
  return Math.max(1, minutesPerRegion * (1 + jitter * (2 * u - 1))) * 60_000;
}

/**
 * Plans replication for `targets` starting at `now`. Regions already replicated (kept from an
 * earlier PUT of the same version) are passed in `existing` and left as they are.
 */
export function planReplication(
  core: Core,
  versionKey: string,
  homeRegion: string,
  targets: TargetRegionInput[],
  now: number,
  script: ReplicationScript,
  existing: RegionReplication[] = [],
): RegionReplication[] {
  const kept = new Map(existing.map((r) => [r.name, r]));
  const home = targets.find((t) => t.region.name === homeRegion);
  const homeState = kept.get(homeRegion);
  let othersStart = now;
  const plan = (t: TargetRegionInput, start: number): RegionReplication => {
    const duration = durationMs(core, versionKey, t.region, script);
    const r: RegionReplication = {
      name: t.region.name,
      displayName: t.region.displayName,
      regionalReplicaCount: t.regionalReplicaCount,
      storageAccountType: t.storageAccountType,
      startAt: start,
      endAt: start + duration,
    };
    if (t.encryption !== undefined) r.encryption = t.encryption;
    if (t.excludeFromLatest !== undefined) r.excludeFromLatest = t.excludeFromLatest;
    const fail = lookup(script.failRegions, t.region);
    if (fail !== undefined) {
      r.failAt = start + Math.floor(duration / 2);
      r.failDetails = fail;
    }
    return r;
  };
  // A region kept from before takes the new request's settings; its replication is left as it is.
  const update = (previous: RegionReplication, t: TargetRegionInput): RegionReplication => {
    const r: RegionReplication = { ...previous, regionalReplicaCount: t.regionalReplicaCount, storageAccountType: t.storageAccountType };
    if (t.excludeFromLatest !== undefined) r.excludeFromLatest = t.excludeFromLatest;
    else delete r.excludeFromLatest;
    return r;
  };
  const out: RegionReplication[] = [];
  if (home) {
    const h = homeState ? update(homeState, home) : plan(home, now);
    out.push(h);
    othersStart = h.failAt ?? h.endAt;
  }
  for (const t of targets) {
    if (t.region.name === homeRegion) continue;
    const previous = kept.get(t.region.name);
    out.push(previous ? update(previous, t) : plan(t, Math.max(now, othersStart)));
  }
  return out;
}

export type RegionState = "Replicating" | "Completed" | "Failed";

export interface RegionView {
  region: string;
  state: RegionState;
  details: string;
  progress: number;
}

export function regionView(r: RegionReplication, now: number): RegionView {
  if (r.failAt !== undefined && now >= r.failAt) {
    const progress = Math.floor(((r.failAt - r.startAt) / Math.max(1, r.endAt - r.startAt)) * 100);
    return { region: r.displayName, state: "Failed", details: r.failDetails ?? "", progress };
  }
  if (now >= r.endAt) return { region: r.displayName, state: "Completed", details: "", progress: 100 };
  const progress = now <= r.startAt ? 0 : Math.min(99, Math.floor(((now - r.startAt) / (r.endAt - r.startAt)) * 100));
  return { region: r.displayName, state: "Replicating", details: "", progress };
}

export function replicationStatus(v: GalleryImageVersion, now: number): { aggregatedState: "InProgress" | "Completed" | "Failed"; summary: RegionView[] } {
  const summary = v.regions.map((r) => regionView(r, now));
  const aggregatedState = summary.some((s) => s.state === "Replicating") ? "InProgress" : summary.some((s) => s.state === "Failed") ? "Failed" : "Completed";
  return { aggregatedState, summary };
}

export function isReplicatedIn(v: GalleryImageVersion, region: string, now: number): boolean {
  const r = v.regions.find((x) => x.name === region);
  return r !== undefined && regionView(r, now).state === "Completed";
}

/** The version PUT's operation finishes when every region has finished (or failed). */
export function replicationProbe(v: GalleryImageVersion): (now: number) => ProbeResult | undefined {
  return (now) => {
    const views = v.regions.map((r) => ({ r, view: regionView(r, now) }));
    if (views.some((x) => x.view.state === "Replicating")) return undefined;
    const endAt = Math.max(v.publishedAt, ...v.regions.map((r) => r.failAt ?? r.endAt));
    const failed = views.filter((x) => x.view.state === "Failed");
    if (failed.length === 0) return { status: "Succeeded", endAt };
    const error: OpError = {
      code: "GalleryImageVersionReplicationFailed",
      message: `Replication of the gallery image version failed in region(s): ${failed.map((x) => x.r.displayName).join(", ")}. Details: ${failed.map((x) => x.view.details).join("; ")}`,
    };
    return { status: "Failed", endAt, error };
  };
}
