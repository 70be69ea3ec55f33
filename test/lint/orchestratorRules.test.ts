// Proves the lint rules that keep orchestrators deterministic: each forbidden construct in a file
// under src/orchestrations/ is an error, and the allowed forms are not.
import path from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const orchestratorFile = path.join(root, "src/orchestrations/lintFixture.ts");
const activityFile = path.join(root, "src/activities/lintFixture.ts");

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

async function messages(code: string, filePath = orchestratorFile): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => `${m.ruleId ?? "parse"}: ${m.message}`);
}

describe("orchestrator determinism rules", () => {
  it.each([
    ["Date.now()", "export const t = Date.now();", "read the clock"],
    ["new Date()", "export const t = new Date();", "read the clock"],
    ["Math.random()", "export const r = Math.random();", "Math.random"],
    ["setTimeout", "setTimeout(() => undefined, 10);", "createTimer"],
    ["setInterval", "setInterval(() => undefined, 10);", "createTimer"],
    ["fetch", 'export const p = fetch("https://example.invalid");', "activity"],
    ["process.env", "export const v = process.env.X;", "process"],
    ["a Node built-in", 'import { readFileSync } from "node:fs";\nexport const f = readFileSync;', "Node built-ins"],
    ["a bare Node built-in", 'import * as os from "os";\nexport const h = os.hostname;', "Node built-ins"],
    ["an Azure SDK", 'import { ComputeManagementClient } from "@azure/arm-compute";\nexport const c = ComputeManagementClient;', "Azure SDKs"],
  ])("rejects %s", async (_what, code, expected) => {
    const found = await messages(code);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).toContain(expected);
  });

  it("allows type-only Azure imports, dated Date construction and the durable clock", async () => {
    const code = [
      'import type { GalleryImageVersion } from "@azure/arm-compute";',
      "export function at(ms: number, v: GalleryImageVersion | undefined): Date { return new Date(ms + (v ? 0 : 1)); }",
      "export function now(ctx: { df: { currentUtcDateTime: Date } }): number { return ctx.df.currentUtcDateTime.getTime(); }",
    ].join("\n");
    expect(await messages(code)).toEqual([]);
  });

  it("leaves activities free to use the clock and the SDKs", async () => {
    const code = 'import { ComputeManagementClient } from "@azure/arm-compute";\nexport const c = [ComputeManagementClient, Date.now()];';
    expect(await messages(code, activityFile)).toEqual([]);
  });

  it("the real orchestrators pass", async () => {
    const results = await eslint.lintFiles([path.join(root, "src/orchestrations")]);
    expect(results.length).toBeGreaterThan(0);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.message}`))).toEqual([]);
  });
});
