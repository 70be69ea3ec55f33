// The demo's safe-rollout part: a gated version's rollout as the publish reports it (ring 0's canary
// first, a soak, the other rings, then the promotion to `latest`), and a revocation that takes the
// version out of `latest` in every region and moves the canaries back.
import { versionKeyOf } from "../../src/domain/instanceIds";
import type { RolloutStatus } from "../../src/domain/rollout";
import type { PublishStatus } from "../../src/orchestrations/publishImageVersion";
import { DEFAULT_REGIONS, OUTCOME_TOPIC, PUBLISHER, type World } from "../fixtures/world";
import { DemoFailure, api, finished } from "./onboardingDemo";
import { formatDuration } from "./report";

/** What `latest` of the image resolves to in each region now (as a consumer's VM create would). */
export function latestByRegion(world: World): string {
  return DEFAULT_REGIONS.map((region) => {
    const v = world.emulator.control.latestVersion({ ...PUBLISHER, region });
    return `${region} ${v ?? "none"}`;
  }).join(", ");
}

/** One line of the live view: the rollout's state, what it waits for, and where `latest` stands. */
export function rolloutLine(status: PublishStatus | undefined, simStart: number): string | undefined {
  const r = status?.rollout;
  if (!r) return undefined;
  const rings = r.rings.map((x) => `ring ${x.ring} ${x.state}${x.total > 0 ? ` ${x.succeeded}/${x.total}` : ""}`).join(", ");
  const until = r.until ? ` until +${formatDuration(Date.parse(r.until) - simStart)}` : "";
  return `  rollout ${r.state}: ${rings}${r.waitingFor ? `; ${r.waitingFor}${until}` : ""}; latest: ${r.promotion.state}`;
}

/**
 * The finished rollout, ring by ring, with when each ring's tenant had its VMs and scale sets moved
 * (their records' times); fails the demo unless ring 0 moved first, a soak before the next, and the
 * version was promoted.
 */
export async function showRollout(
  world: World,
  version: string,
  rollout: RolloutStatus | undefined,
  members: ReadonlyArray<{ readonly ring: number; readonly name: string; readonly tenantId: string }>,
  simStart: number,
  say: (line: string) => void,
): Promise<void> {
  if (!rollout) throw new DemoFailure(`the publish of ${version} reported no rollout`);
  say(`Rollout of ${version} (ring by ring, ${rollout.gated ? "latest gated" : "latest not gated"}):`);
  const movedAt = new Map<number, number>();
  for (const r of rollout.rings) {
    const inRing = members.filter((m) => m.ring === r.ring);
    const names: string[] = [];
    for (const m of inRing) {
      const tenant = await api<{ vms?: { at: string }[]; scaleSets?: { at: string }[] }>(world, "GET", `tenants/${m.tenantId}`);
      const at = Math.max(...[...(tenant.body.vms ?? []), ...(tenant.body.scaleSets ?? [])].map((w) => Date.parse(w.at)));
      movedAt.set(r.ring, at);
      names.push(`${m.name} moved at +${formatDuration(at - simStart)}`);
    }
    say(`  ring ${r.ring} ${r.state.padEnd(9)} ${r.succeeded}/${r.total}  ${names.join(", ") || "nobody"}`);
  }
  say(
    `  latest: ${rollout.promotion.state}${rollout.promotion.at ? ` at +${formatDuration(Date.parse(rollout.promotion.at) - simStart)}` : ""}; now ${latestByRegion(world)}`,
  );
  const times = [...movedAt.entries()].sort((a, b) => a[0] - b[0]).map(([, at]) => at);
  const inOrder = times.every((t, i) => i === 0 || t > (times[i - 1] ?? Infinity));
  if (rollout.promotion.state !== "promoted" || rollout.rings[0]?.state !== "succeeded" || !inOrder)
    throw new DemoFailure(`expected ring 0 moved first and ${version} promoted: ${JSON.stringify(rollout)}`);
}

/** POST /api/versions/{versionId}/revoke, then the revocation's run; fails the demo unless latest and the canaries are back on `fallback`. */
export async function revokeAndShow(world: World, versionId: string, fallback: string, say: (line: string) => void, limitMs: number): Promise<void> {
  const key = versionKeyOf(versionId);
  const version = versionId.split("/").pop() ?? versionId;
  const reason = "boot loop on Standard_B2s after the kernel update";
  const answer = await api<{ instanceId?: string }>(world, "POST", `versions/${key}/revoke`, { reason, requestedBy: "release-manager@contoso" });
  say(`  POST /api/versions/${key}/revoke ("${reason}"): ${answer.status}`);
  if (answer.status !== 202 || !answer.body.instanceId) throw new DemoFailure(`the revocation answered ${answer.status}`);
  const done = await finished(world, answer.body.instanceId, limitMs);
  const output = done.output as { fallbackVersion?: string; workloads?: { succeeded: number; total: number } } | undefined;
  say(`  ${answer.body.instanceId}: ${done.runtimeStatus}; latest falls back to ${output?.fallbackVersion ?? "none"}`);
  say(`  latest now: ${latestByRegion(world)}`);
  say(`  the app's canaries moved back to ${fallback}: ${output?.workloads?.succeeded ?? 0} of ${output?.workloads?.total ?? 0}`);
  const view = await api<{ revocation?: { by: string; reason: string } }>(world, "GET", `versions/${key}`);
  say(`  GET /api/versions/${key}: revoked by ${view.body.revocation?.by ?? "?"}: ${view.body.revocation?.reason ?? "?"}`);
  const events = world.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ type: string; subject: string }>;
  const revokedEvent = events.some((e) => e.type === "GalleryShare.ImageVersionRevoked" && e.subject === versionId);
  say(`  GalleryShare.ImageVersionRevoked ${revokedEvent ? "received" : "missing"}`);
  const everywhere = DEFAULT_REGIONS.every((region) => world.emulator.control.latestVersion({ ...PUBLISHER, region }) === fallback);
  if (done.runtimeStatus !== "Completed" || output?.fallbackVersion !== fallback || !everywhere || !revokedEvent)
    throw new DemoFailure(`revoking ${version} did not bring latest back to ${fallback} everywhere: ${JSON.stringify(done.output)}`);
}

/**
 * What the operator dashboard shows now, read as a Reader through the local host's development
 * sign-in (GET /api/ops/overview, what the page draws): fails the demo unless it has the tenants,
 * the versions and the canaries.
 */
export async function showDashboard(world: World, say: (line: string) => void): Promise<void> {
  const login = await fetch(`${world.host.baseUrl}/.auth/login/dev`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "demo-reader@contoso.example", roles: ["GalleryShare.Reader"] }),
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  const r = await fetch(`${world.host.baseUrl}/api/ops/overview`, { headers: { cookie } });
  if (r.status !== 200) throw new DemoFailure(`the dashboard's overview answered ${r.status}`);
  const o = (await r.json()) as {
    tenants: Array<{ displayName: string; workloads: Array<{ kind: string; version: string }> }>;
    versions: Array<{ version: string; runtimeStatus: string }>;
    needsAttention: unknown[];
  };
  const canaries = o.tenants.flatMap((t) => t.workloads.map((w) => `${t.displayName} ${w.kind} on ${w.version}`));
  say(
    `Dashboard ${world.host.baseUrl}/api/dashboard (as a Reader): ${o.tenants.length} tenants, ${o.versions.length} versions (${o.versions.map((v) => `${v.version} ${v.runtimeStatus}`).join(", ")}), canaries: ${canaries.join(", ")}; ${o.needsAttention.length} items need attention`,
  );
  if (o.tenants.length === 0 || o.versions.length === 0 || canaries.length === 0) throw new DemoFailure("the dashboard shows no tenants, versions or canaries");
}
