// `gallery-share tenant list --output table` and `gallery-share version retry <id>` against
// `npm run dev` itself: the dev world is started as a user starts it, a version whose replication
// fails is published through the emulator's control API, and the command line (signed in through
// the local host's development sign-in, as dev's printout says) lists the tenants and runs the failed
// publish again.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONSUMERS, GALLERY_ID, PUBLISHER, versionWriteEvent } from "../../local/fixtures/world";
import { publishInstanceId, versionKeyOf } from "../../src/domain/instanceIds";
import { runCli } from "./support";

const root = path.resolve(__dirname, "../..");
let dev: ChildProcess | undefined;

// npm, the shell and tsx each start a process: stop the whole group, as Ctrl+C does, then make sure.
afterAll(async () => {
  const pid = dev?.pid;
  if (pid === undefined || dev?.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => dev?.once("exit", () => resolve()));
  process.kill(-pid, "SIGINT");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
});

/** Starts `npm run dev` and reads the addresses it prints. */
function startDev(): Promise<{ host: string; key: string; emulator: string; caFile: string; eventGrid: string }> {
  return new Promise((resolve, reject) => {
    dev = spawn("npm", ["run", "--silent", "dev"], { cwd: root, env: { ...process.env, DEV_SPEED: "600" }, detached: true });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`npm run dev did not start in 90 s:\n${out}`)), 90_000);
    dev.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (!out.includes("Ctrl+C stops everything.")) return;
      clearTimeout(timer);
      const host = /local Functions host : (\S+)\s+\(function key: ([^)]+)\)/.exec(out);
      const emulator = /emulator \(ARM, Entra\): (\S+)\s+\(CA file: ([^)]+)\)/.exec(out);
      const eventGrid = /curl -s -X POST '([^']+imageVersionEvents[^']*)'/.exec(out);
      if (!host || !emulator || !eventGrid) reject(new Error(`unexpected dev output:\n${out}`));
      else resolve({ host: host[1]!, key: host[2]!, emulator: emulator[1]!, caFile: emulator[2]!, eventGrid: eventGrid[1]! });
    });
    dev.on("exit", (code) => reject(new Error(`npm run dev exited with ${code}:\n${out}`)));
  });
}

/** A POST to the emulator's control API, trusting its CA. */
function control(emulator: string, caFile: string, route: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${emulator}/_emulator${route}`,
      { method: "POST", ca: readFileSync(caFile), headers: { "content-type": "application/json" } },
      (r) => {
        r.resume();
        r.on("end", () => resolve(r.statusCode ?? 0));
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe("the command line against npm run dev", () => {
  it("tenant list --output table and version retry <id> work against the dev world", async () => {
    const d = await startDev();
    const env = { GALLERY_SHARE_URL: d.host, GALLERY_SHARE_DEV_USER: "ops@contoso.example", GALLERY_SHARE_DEV_ROLES: "GalleryShare.Operator" };

    // A tenant, onboarded through the API as dev's printout shows.
    const consumer = CONSUMERS[0];
    const onboarding = {
      schema: "onboarding/v1",
      requestId: "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7",
      tenantId: consumer.tenantId,
      displayName: consumer.name,
      mode: "direct",
      galleries: [GALLERY_ID],
    };
    const accepted = await fetch(`${d.host}/api/onboarding?code=${d.key}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(onboarding),
    });
    expect(accepted.status).toBe(202);
    await until("the tenant to be active", async () => {
      const r = await fetch(`${d.host}/api/tenants/${consumer.tenantId}?code=${d.key}`);
      return r.status === 200 && ((await r.json()) as { state: string }).state === "active" ? true : undefined;
    });
    const listed = await runCli(["tenant", "list", "--output", "table"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^Name\s+TenantId\s+Mode\s+State\s+Ring\s+Workloads\n-+/);
    expect(listed.stdout).toMatch(new RegExp(`^Fabrikam\\s+${consumer.tenantId}\\s+direct\\s+active\\s+2\\s*$`, "m"));

    // A version whose replication fails, published through the emulator's control API; its event delivered.
    const version = "1.0.9";
    const spec = { subscriptionId: PUBLISHER.subscriptionId, resourceGroup: PUBLISHER.resourceGroup, gallery: PUBLISHER.gallery, image: PUBLISHER.image };
    expect(
      await control(d.emulator, d.caFile, "/versions", {
        ...spec,
        version,
        targetRegions: ["westeurope", "eastus"],
        regionMinutes: { westeurope: 2, eastus: 2 },
        failRegions: { eastus: "disk copy failed" },
      }),
    ).toBe(200);
    const versionId = `${GALLERY_ID}/images/${PUBLISHER.image}/versions/${version}`;
    const event = [versionWriteEvent(versionId)];
    const delivered = await fetch(d.eventGrid, {
      method: "POST",
      headers: { "aeg-event-type": "Notification", "content-type": "application/json" },
      body: JSON.stringify(event),
    });
    expect(delivered.status).toBe(202);
    const instanceId = publishInstanceId(versionId);
    await until("the publish to fail", async () => {
      const r = await fetch(`${d.host}/api/status/${instanceId}?code=${d.key}`);
      return r.status === 200 && ((await r.json()) as { runtimeStatus: string }).runtimeStatus === "Failed" ? true : undefined;
    });

    const retried = await runCli(["version", "retry", versionKeyOf(versionId)], env);
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ instanceId, attempt: 1 });
  }, 180_000);
});
