// `npm run demo` as a user runs it: exit code 0, the summary, and ARM traffic (recorded through
// EMULATOR_RECORD) that passes the contract test against the official GalleryRP spec.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateRecording } from "../../local/contract/validateTraffic";

const root = path.resolve(__dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "demo-recording-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run demo", () => {
  it("shares the published version with every consumer tenant, and its recorded traffic meets the contract", async () => {
    const recording = path.join(dir, "demo.jsonl");
    const run = spawnSync("npm", ["run", "--silent", "demo"], {
      cwd: root,
      env: { ...process.env, EMULATOR_RECORD: recording, DEMO_SPEED: "480" },
      encoding: "utf8",
      timeout: 180_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toMatch(/Orchestration publish-[0-9a-f]{32}: Completed/);
    for (const name of ["Fabrikam", "Northwind", "Tailspin"]) expect(output).toMatch(new RegExp(`tenant ${name}\\s+added`));
    expect(output).toContain("Outcome events received by the topic: GalleryShare.ImageVersionShared");
    expect(output).toMatch(/Share calls: 1\b/);
    expect(output).not.toMatch(/client_secret=|Bearer ey/);

    const { verdicts } = await validateRecording(recording);
    expect(verdicts.length).toBeGreaterThan(5);
    const failures = verdicts.filter((v) => v.isSuccessful !== true).map((v) => `${v.exchange.method} ${v.exchange.url}: ${v.errors.join("; ")}`);
    expect(failures).toEqual([]);
  });
});
