// The `gallery-share` command line against the local host, as `npm run dev` runs it: signed in
// with the development sign-in, `tenant list --output table` lists the registry's tenants,
// `version retry` runs a failed publish again as an Operator and is refused as a Reader.
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { CONSUMERS, GALLERY_ID, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId, versionKeyOf } from "../../src/domain/instanceIds";
import { runCli, sendRequests, useWorlds } from "./support";

const worlds = useWorlds();

/** Runs the CLI (src/cli/galleryShare.ts through tsx) with the given arguments and environment. */

async function start(): Promise<World> {
  const w = await worlds.start({ clock: new VirtualClock(Date.now()), settings: { SHARE_TENANT_IDS: "" } });
  await sendRequests(
    w,
    CONSUMERS.slice(0, 2).map((c, i) => ({
      schema: "onboarding/v1",
      requestId: `7c7c7c7c-0000-4000-8000-00000000000${i + 1}`,
      tenantId: c.tenantId,
      displayName: c.name,
      mode: "direct",
      galleries: [GALLERY_ID],
      ...(i === 0 ? { ring: 0 } : {}),
    })),
  );
  for (const i of [1, 2]) await w.host.durable.waitFor(`onboard-7c7c7c7c-0000-4000-8000-00000000000${i}`, undefined, { maxSimulatedMs: 3600_000 });
  return w;
}

describe("gallery-share (the command line)", () => {
  it("tenant list --output table: the tenants, their mode, state and ring; results on stdout, progress on stderr", async () => {
    const w = await start();
    const env = { GALLERY_SHARE_URL: w.host.baseUrl, GALLERY_SHARE_DEV_USER: "rita@contoso.example", GALLERY_SHARE_DEV_ROLES: "GalleryShare.Reader" };
    const listed = await runCli(["tenant", "list", "--output", "table"], env);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^Name\s+TenantId\s+Mode\s+State\s+Ring\s+Workloads$/);
    expect(lines[1]).toMatch(/^-+\s+-+/);
    expect(lines.slice(2)).toEqual([
      expect.stringMatching(new RegExp(`^Fabrikam\\s+${CONSUMERS[0].tenantId}\\s+direct\\s+active\\s+0$`)),
      expect.stringMatching(new RegExp(`^Northwind\\s+${CONSUMERS[1].tenantId}\\s+direct\\s+active\\s+2$`)),
    ]);
    expect(listed.stderr).toContain("signed in to");
    const json = await runCli(["tenant", "list"], env);
    expect((JSON.parse(json.stdout) as { displayName: string }[]).map((t) => t.displayName)).toEqual(["Fabrikam", "Northwind"]);
    const help = await runCli(["--help"], {});
    expect(help.stdout).toContain("gallery-share version retry");
    const usage = await runCli(["tenant", "frobnicate"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown command: tenant frobnicate");
  }, 60_000);

  it("version retry <id>: refused for a Reader (403), runs a failed publish again for an Operator", async () => {
    const w = await start();
    const id = w.publishVersion("1.0.1", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 }, failRegions: { eastus: "disk copy failed" } });
    expect((await w.deliver([versionWriteEvent(id)])).status).toBe(202);
    expect((await w.host.durable.waitFor(publishInstanceId(id), undefined, { maxSimulatedMs: 6 * 3600_000 })).runtimeStatus).toBe("Failed");
    const base = { GALLERY_SHARE_URL: w.host.baseUrl, GALLERY_SHARE_DEV_USER: "someone@contoso.example" };
    const refused = await runCli(["version", "retry", versionKeyOf(id)], { ...base, GALLERY_SHARE_DEV_ROLES: "GalleryShare.Reader" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/answered 403: .*may look but not act/);
    const retried = await runCli(["version", "retry", versionKeyOf(id)], { ...base, GALLERY_SHARE_DEV_ROLES: "GalleryShare.Operator" });
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ instanceId: publishInstanceId(id), attempt: 1 });
    // Started again, as a re-run (the replication failure it meets again is the version's own).
    await w.host.durable.runUntilIdle();
    expect(w.host.durable.getStatus(publishInstanceId(id))?.input).toMatchObject({ recovery: { attempt: 1 } });
  }, 60_000);
});
