// Proves the layer rules of src/ fire: each forbidden import, written into a file of the layer it
// breaks, is an error naming the rule, and the allowed form next to it is not. The import cycle is
// made against real files: a module of src/domain that imports one which already imports it. That
// the whole of src/ passes is `npm run lint`'s job (CI runs it).
import path from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

async function errors(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => `${m.ruleId ?? "parse"}: ${m.message}`);
}

describe("layer rules", () => {
  it.each([
    [
      "domain imports app code (even a type)",
      "src/domain/lintFixture.ts",
      'import type { Services } from "../services";\nexport type S = Services;',
      "domain is pure",
    ],
    [
      "domain imports an SDK",
      "src/domain/lintFixture.ts",
      'import type { TableClient } from "@azure/data-tables";\nexport type T = TableClient;',
      "domain is pure",
    ],
    [
      "an activity imports an orchestration",
      "src/activities/lintFixture.ts",
      'import { publishImageVersion } from "../orchestrations/publishImageVersion";\nexport const o = publishImageVersion;',
      "activities never import orchestrations",
    ],
    [
      "an activity imports a function (even a type)",
      "src/activities/lintFixture.ts",
      'import type { ConsentVerdict } from "../functions/consentVerifier";\nexport type V = ConsentVerdict;',
      "activities never import orchestrations or functions",
    ],
    [
      "an orchestration imports an activity's code",
      "src/orchestrations/lintFixture.ts",
      'import { createActivities } from "../activities";\nexport const a = createActivities;',
      "only the types of activities",
    ],
    [
      "an orchestration imports the services",
      "src/orchestrations/lintFixture.ts",
      'import type { Services } from "../services";\nexport type S = Services;',
      "orchestrations import only domain and activity types",
    ],
    [
      "an orchestration imports a trigger",
      "src/orchestrations/lintFixture.ts",
      'import type { ConsentVerdict } from "../functions/consentVerifier";\nexport type V = ConsentVerdict;',
      "orchestrations import only domain and activity types",
    ],
    ["a function imports the composition root", "src/functions/lintFixture.ts", 'import "../app";', "nothing imports it"],
    ["an adapter imports the composition root", "src/azure/lintFixture.ts", 'import "../app";', "nothing imports it"],
  ])("rejects: %s", async (_what, file, code, expected) => {
    const found = await errors(code, file);
    expect(found.join("\n")).toContain(expected);
  });

  it("allows what the layers allow: activity types in orchestrations, domain everywhere", async () => {
    expect(
      await errors(
        'import type { Activities } from "../activities";\nimport { SHARE_COORDINATOR } from "../domain/orchestrationNames";\nexport type A = Activities;\nexport const name = SHARE_COORDINATOR;',
        "src/orchestrations/lintFixture.ts",
      ),
    ).toEqual([]);
    expect(
      await errors(
        'import { SHARE_COORDINATOR } from "../domain/orchestrationNames";\nimport type { Services } from "../services";\nexport type S = Services;\nexport const name = SHARE_COORDINATOR;',
        "src/activities/lintFixture.ts",
      ),
    ).toEqual([]);
  });

  it("rejects an import cycle (import-x/no-cycle)", async () => {
    // src/domain/workloads.ts imports ./instanceIds; instanceIds importing ./workloads closes a cycle.
    const code =
      'import { workloadNames } from "./workloads";\nexport const names = workloadNames;\nexport function stableHash(text: string): string { return text; }';
    const found = await errors(code, "src/domain/instanceIds.ts");
    expect(found.join("\n")).toContain("import-x/no-cycle");
  });

  it("rejects a file over 400 lines and a function over 80", async () => {
    const longFunction = `export function long(): number {\n  let n = 0;\n${"  n++;\n".repeat(80)}  return n;\n}\n`;
    expect((await errors(longFunction, "src/domain/lintFixture.ts")).join("\n")).toContain("max-lines-per-function");
    const longFile = `${"export const x0 = 0;\n".repeat(401)}`;
    expect((await errors(longFile, "src/domain/lintFixture.ts")).join("\n")).toContain("max-lines");
  });
});
