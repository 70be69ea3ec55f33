// `npm run demo` as a user runs it: exit code 0, the summary, and ARM traffic (recorded through
// EMULATOR_RECORD) that passes the contract test against the official GalleryRP spec. Besides the
// first publish, the demo onboards a tenant per sharing mode through POST /api/onboarding (rbac
// through the consent pages), publishes a version that reaches them ring by ring before it becomes
// latest, revokes it, and offboards the direct one.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { perSpecSummary, validateRecording } from "../../local/contract/validateTraffic";

const root = path.resolve(__dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "demo-recording-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run demo", () => {
  it("shares the published version with every consumer tenant, onboards and offboards tenants, and its recorded traffic meets the contract", async () => {
    const recording = path.join(dir, "demo.jsonl");
    const run = spawnSync("npm", ["run", "--silent", "demo"], {
      cwd: root,
      env: { ...process.env, EMULATOR_RECORD: recording, DEMO_SPEED: "480" },
      encoding: "utf8",
      timeout: 240_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toMatch(/Orchestration publish-[0-9a-f]{32}: Completed/);
    for (const name of ["Fabrikam", "Northwind", "Tailspin"]) expect(output).toMatch(new RegExp(`tenant ${name}\\s+added`));
    // The image is gated: the first version (no canaries yet) is promoted after one soak, then reported shared.
    expect(output).toContain("Outcome events received by the topic: GalleryShare.ImageVersionPromoted, GalleryShare.ImageVersionShared");
    expect(output).toMatch(/Share calls: 1\b/);
    expect(output).not.toMatch(/client_secret=|Bearer ey/);

    // Onboarding, one tenant per mode, through the API and the queue; rbac through the consent pages.
    for (const name of ["Woodgrove", "Adatum", "Litware"]) expect(output).toMatch(new RegExp(`${name}\\s+\\S+\\s+POST /api/onboarding: 202`));
    expect(output).toMatch(/Adatum\s+consent page \/api\/consent\/[0-9a-f-]{36}: 200, "Contoso Images asks for admin consent"/);
    expect(output).toMatch(/Adatum\s+\/[0-9a-f-]{36}\/v2\.0\/adminconsent: 302 -> \/api\/consent\/callback \(admin_consent=True\)/);
    expect(output).toMatch(/Adatum\s+\/api\/consent\/callback: 200 "consent recorded"/);
    for (const name of ["Woodgrove", "Adatum", "Litware"]) expect(output).toMatch(new RegExp(`${name}\\s+onboardTenant Completed: active, request succeeded`));
    const afterOnboarding = section(output, "Tenants after onboarding", "Published ubuntu-2404-hardened 1.5.0");
    expect(afterOnboarding).toMatch(/^Tenants after onboarding \(GET \/api\/tenants\): 3 active$/m);
    expect(afterOnboarding).toMatch(/^ {2}Adatum\s+rbac\s+active\s+[0-9a-f-]{36}\s+admin consent; the app holds Contributor on rg-adatum-apps/m);
    expect(afterOnboarding).toMatch(/^ {2}Litware\s+principal\s+active\s+[0-9a-f-]{36}\s+Reader on contoso_golden for the guest user/m);
    expect(afterOnboarding).toMatch(/^ {2}Woodgrove\s+direct\s+active\s+[0-9a-f-]{36}\s+contoso_golden shared with the tenant$/m);
    // A canary VM in the direct and the rbac tenant, and a scale set in the rbac one, built by the app.
    expect(afterOnboarding).toMatch(/^VMs and scale sets the app built in the customers' tenants: 2 VMs, 1 scale set$/m);
    expect(afterOnboarding).toMatch(/^ {2}Woodgrove\s+VM\s+gs-[0-9a-f]{12}\s+ubuntu-2404-hardened 1\.4\.0 {2}Succeeded, follows new versions$/m);
    expect(afterOnboarding).toMatch(/^ {2}Adatum\s+VM\s+gs-[0-9a-f]{12}\s+ubuntu-2404-hardened 1\.4\.0 {2}Succeeded, follows new versions$/m);
    expect(afterOnboarding).toMatch(
      /^ {2}Adatum\s+scale set\s+gss-[0-9a-f]{12}\s+ubuntu-2404-hardened 1\.4\.0 {2}Succeeded \(Uniform, 2 instances, Automatic upgrades\)/m,
    );

    // The next version reaches them: the direct tenant among its share targets, the others by their roles.
    expect(output).toMatch(/Orchestration publish-[0-9a-f]{32}: Completed\nShare targets of 1\.5\.0: tenants [^\n]*\bWoodgrove\b/);
    expect(output).toMatch(/tenant Woodgrove\s+\S+\s+contoso_golden\/ubuntu-2404-hardened 1\.5\.0/);
    for (const name of ["Woodgrove", "Adatum", "Litware"]) expect(output).toMatch(new RegExp(`${name}\\s+\\S+\\s+.*reads 1\\.5\\.0.*: 200$`, "m"));
    expect(output).toMatch(/^VMs and scale sets moved to 1\.5\.0: 3 of 3 \(0 failed, at most 2 at once\)$/m);

    // The image is gated: 1.5.0 reached Woodgrove's canary (ring 0) first, then Adatum's (ring 2), then latest.
    const rollout = section(output, "Rollout of 1.5.0", "Revoking 1.5.0");
    const ring0 = /^ {2}ring 0 succeeded 1\/1 {2}Woodgrove moved at \+(\d+):(\d+):(\d+)$/m.exec(rollout);
    const ring2 = /^ {2}ring 2 succeeded 2\/2 {2}Adatum moved at \+(\d+):(\d+):(\d+)$/m.exec(rollout);
    const seconds = (m: RegExpExecArray | null) => (m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : Number.NaN);
    // Ring 2 a soak (20 simulated minutes) or more after ring 0.
    expect(seconds(ring2) - seconds(ring0)).toBeGreaterThanOrEqual(20 * 60);
    expect(rollout).toMatch(/^ {2}ring 1 skipped {3}0\/0 {2}nobody$/m);
    expect(rollout).toMatch(/^ {2}latest: promoted at \+[\d:]+; now westeurope 1\.5\.0, northeurope 1\.5\.0, eastus 1\.5\.0$/m);
    // Revoked: latest and the canaries back on 1.4.0.
    const revoke = section(output, "Revoking 1.5.0", "Offboarding Woodgrove");
    expect(revoke).toMatch(/POST \/api\/versions\/[0-9a-f]{32}\/revoke \("boot loop on Standard_B2s after the kernel update"\): 202/);
    expect(revoke).toMatch(/^ {2}latest now: westeurope 1\.4\.0, northeurope 1\.4\.0, eastus 1\.4\.0$/m);
    expect(revoke).toMatch(/^ {2}the app's canaries moved back to 1\.4\.0: 3 of 3$/m);
    expect(revoke).toMatch(/revoked by release-manager@contoso: boot loop/);

    // Offboarding the direct tenant: its record, its grants, the gallery's sharing profile, its reads.
    expect(output).toMatch(/Woodgrove\s+POST \/api\/offboarding: 202/);
    expect(output).toMatch(/Woodgrove\s+offboardTenant Completed: offboarded/);
    expect(output).toMatch(/Woodgrove\s+GET \/api\/tenants\/[0-9a-f-]{36}: offboarded, 0 grants/);
    expect(output).toContain("contoso_golden sharing profile (real SDK): tenants Fabrikam, Northwind, Tailspin; Woodgrove no longer listed");
    expect(output).toMatch(/Woodgrove\s+reads 1\.5\.0 as itself again: 40[34] \(access gone\)/);
    const summary = section(output, "Summary", "Outcome events in all");
    expect(summary).toMatch(/^Tenants at the end \(GET \/api\/tenants\): 2 active, 1 offboarded$/m);
    expect(summary).toMatch(/^ {2}Woodgrove\s+direct\s+offboarded\s+[0-9a-f-]{36}\s+no grants$/m);
    expect(summary).toMatch(/^ {2}Adatum\s+rbac\s+active\b/m);
    expect(summary).toMatch(/^ {2}Litware\s+principal\s+active\b/m);
    expect(summary).toMatch(/^VMs and scale sets in the customers' tenants: 2 VMs, 1 scale set$/m);
    expect(summary.match(/^ {2}\S+\s+(?:VM|scale set)\s+gss?-[0-9a-f]{12}\s+ubuntu-2404-hardened 1\.4\.0 {2}Succeeded/gm)).toHaveLength(3);
    expect(output).toMatch(
      /Outcome events in all: .*GalleryShare\.ConsentRequested.*GalleryShare\.TenantOnboarded x3.*GalleryShare\.ImageVersionRevoked.*GalleryShare\.TenantOffboarded/,
    );
    expect(output).toMatch(/GalleryShare\.ImageVersionPromoted x2/);
    // The dashboard: its address, and what it shows (read as a Reader).
    expect(output).toMatch(/operator dashboard\s+http:\/\/127\.0\.0\.1:\d+\/api\/dashboard/);
    const dashboard =
      /^Dashboard \S+\/api\/dashboard \(as a Reader\): 3 tenants, 2 versions \(1\.5\.0 Completed, 1\.4\.0 Completed\), canaries: (.*); \d+ items need attention$/m.exec(
        output,
      );
    expect(dashboard?.[1]?.split(", ").sort()).toEqual(["Adatum vm on 1.4.0", "Adatum vmss on 1.4.0", "Woodgrove vm on 1.4.0"]);
    expect(output).toContain("Demo OK: every step did what it should.");

    const report = await validateRecording(recording);
    const { verdicts } = report;
    console.log(perSpecSummary(report));
    expect(verdicts.length).toBeGreaterThan(5);
    for (const s of report.perSpec) expect(s.valid, `${s.contract}: no demo exchange validated`).toBeGreaterThan(0);
    const failures = verdicts.filter((v) => v.isSuccessful !== true).map((v) => `${v.exchange.method} ${v.exchange.url}: ${v.errors.join("; ")}`);
    expect(failures).toEqual([]);
  }, 300_000);
});

/** The output from the line starting with `from` up to (not including) the line starting with `to`. */
function section(output: string, from: string, to: string): string {
  const start = output.search(new RegExp(`^${from}`, "m"));
  expect(start, `no line starting with "${from}" in:\n${output}`).toBeGreaterThanOrEqual(0);
  const rest = output.slice(start);
  const end = rest.search(new RegExp(`^${to}`, "m"));
  return end < 0 ? rest : rest.slice(0, end);
}
