// Resource bodies under infra/ checked against the Bicep compiler's own type data (vendored from
// bicep-types-az in specs/bicep-types), since the compiler cannot run here: unknown types, unknown
// or mis-cased properties, read-only properties set, required ones missing, closed enums, and int
// and string constraints. One fixture per rule proves each check fires, and fires alone.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadBicepFiles, parseBicepFile, repoRoot, visit, type BicepFile } from "./support/bicep";
import { BicepTypeLibrary, checkBicepTypes, compileDotNetPattern, formatFinding, summarize, vendoredTypes, type Finding, type Rule, type TypeCheckReport } from "./support/bicepTypes";

const root = repoRoot();
const fixtures = "test/infra/fixtures/bicep-types";

let files: BicepFile[];
let report: TypeCheckReport;

beforeAll(async () => {
  files = await loadBicepFiles(path.join(root, "infra"));
  report = checkBicepTypes(files);
  // What the check could not evaluate, so that a reader knows how much it covers.
  console.log(summarize(report));
});

describe("infra/ against the vendored Bicep type data", () => {
  it("sees every resource declaration, nested ones included", () => {
    let declared = 0;
    for (const file of files) visit(file.root, (node) => (declared += node.type === "resource_declaration" ? 1 : 0));
    expect(report.resources.length).toBe(declared);
    expect(report.resources.length).toBeGreaterThanOrEqual(40);
  });

  it("every resource's type@apiVersion is vendored", () => {
    const unresolved = report.resources.filter((r) => !r.resolved).map((r) => `${r.file}:${r.line} ${r.symbol} ${r.type}@${r.apiVersion}`);
    expect(unresolved).toEqual([]);
  });

  it("every resource body that is not `existing` is an object literal the check walked", () => {
    expect(report.resources.filter((r) => !r.existing && !r.bodyChecked).map((r) => `${r.file}:${r.line} ${r.symbol}`)).toEqual([]);
    expect(report.checkedValues).toBeGreaterThan(50);
  });

  it("has no findings", () => {
    expect(report.findings.map(formatFinding)).toEqual([]);
  });

  it("skips only values it cannot evaluate, with the reason", () => {
    const reasons = new Set(report.skips.map((s) => s.reason));
    for (const reason of reasons) {
      expect(reason).toMatch(/^(parameter, variable or loop variable|function call|property or index access|interpolated string|operator expression|required properties of an object with computed or unparsed keys|discriminator not a literal.*)$/);
    }
  });
});

/** The identity of a finding without its message: where, which resource and property, which rule. */
function key(finding: Finding): string {
  return `${finding.line}:${finding.column} ${finding.symbol} ${finding.path || "-"} ${finding.rule}`;
}

async function checkFixture(name: string): Promise<Finding[]> {
  return checkBicepTypes([await parseBicepFile(path.join(root, fixtures, name))]).findings;
}

describe("one fixture per rule", () => {
  const cases: Array<{ file: string; rule: Rule; expected: string[] }> = [
    { file: "unknown-type.bicep", rule: "unknown-type", expected: ["3:21 oldStorage - unknown-type", "12:17 widget - unknown-type"] },
    { file: "unknown-property.bicep", rule: "unknown-property", expected: ["15:11 storage properties.networkAcls.ipRules[0].actionType unknown-property"] },
    { file: "miscased-property.bicep", rule: "miscased-property", expected: ["10:5 storage properties.AllowBlobPublicAccess miscased-property"] },
    { file: "read-only-property.bicep", rule: "read-only-property", expected: ["10:5 storage properties.provisioningState read-only-property"] },
    {
      file: "required-property.bicep",
      rule: "required-property",
      expected: ["5:15 assignment properties.principalId required-property", "14:71 hub name required-property", "26:18 subscription properties.destination.endpointType required-property"],
    },
    { file: "enum.bicep", rule: "enum", expected: ["11:17 storage properties.accessTier enum", "14:22 storage properties.networkAcls.defaultAction enum"] },
    { file: "int-range.bicep", rule: "int-range", expected: ["10:15 storage::blobs properties.deleteRetentionPolicy.days int-range", "14:15 storage::blobs properties.containerDeleteRetentionPolicy.days int-range"] },
    { file: "type-mismatch.bicep", rule: "type-mismatch", expected: ["10:28 storage properties.allowBlobPublicAccess type-mismatch", "12:23 storage properties.allowedCopyScope type-mismatch"] },
    { file: "read-only-type.bicep", rule: "read-only-type", expected: ["2:18 deleted - read-only-type"] },
  ];

  it.each(cases)("$file yields exactly its $rule findings", async ({ file, rule, expected }) => {
    const findings = await checkFixture(file);
    expect(findings.map(key)).toEqual(expected);
    expect(new Set(findings.map((f) => f.rule))).toEqual(new Set([rule]));
    for (const finding of findings) expect(finding.file).toBe(`${fixtures}/${file}`);
  });

  it("string-constraints.bicep yields one length and one pattern finding", async () => {
    const findings = await checkFixture("string-constraints.bicep");
    expect(findings.map(formatFinding)).toEqual([
      `${fixtures}/string-constraints.bicep:4:9: short name: [string-length] 'st' is 2 characters, shorter than the minimum 3`,
      `${fixtures}/string-constraints.bicep:13:9: badPattern name: [string-pattern] 'St-Pattern' does not match the pattern /^[a-z0-9]+$/`,
    ]);
  });

  it("messages name the fix: the right case, the vendored apiVersions, the allowed values", async () => {
    expect((await checkFixture("miscased-property.bicep"))[0]?.message).toContain("did you mean 'allowBlobPublicAccess'?");
    const [oldStorage, widget] = await checkFixture("unknown-type.bicep");
    expect(oldStorage?.message).toBe("no vendored type data has Microsoft.Storage/storageAccounts@2019-06-01 (vendored apiVersions of this type: 2023-05-01)");
    expect(widget?.message).toContain("no apiVersion of this type is vendored");
    const [tier, action] = await checkFixture("enum.bicep");
    expect(tier?.message).toBe("'Warm' is not one of 'Hot', 'Cool', 'Premium', 'Cold'");
    expect(action?.message).toContain("did you mean 'Allow'?");
  });

  it("checks literal objects and values inside loops, conditions and ternaries", async () => {
    const findings = await checkFixture("loops-and-conditions.bicep");
    expect(findings.map(key)).toEqual([
      "15:36 storage properties.accessTier enum",
      "21:19 storage properties.networkAcls.ipRules[*].action enum",
      "25:5 storage properties.encryptionn unknown-property",
      "47:21 containers properties.publicAccess enum",
    ]);
  });

  it("clean.bicep (open unions, keywords, literal names, discriminators, additional properties) yields none", async () => {
    const clean = checkBicepTypes([await parseBicepFile(path.join(root, fixtures, "clean.bicep"))]);
    expect(clean.findings.map(formatFinding)).toEqual([]);
    expect(clean.resources.filter((r) => r.bodyChecked)).toHaveLength(9);
    expect(clean.checkedValues).toBeGreaterThan(30);
  });
});

describe("type data lookup", () => {
  it("is case-insensitive and reports the exact name", () => {
    expect(vendoredTypes().lookup("microsoft.web/SITES", "2024-04-01")?.name).toBe("Microsoft.Web/sites@2024-04-01");
    expect(vendoredTypes().lookup("Microsoft.Web/sites", "2023-01-01")).toBeUndefined();
  });

  it("finds a type among several provider folders of one namespace and version", () => {
    expect(vendoredTypes().lookup("Microsoft.Resources/resourceGroups", "2024-03-01")?.file.rel).toBe("specs/bicep-types/generated/resources_11/microsoft.resources/2024-03-01/types.json");
    expect(vendoredTypes().lookup("Microsoft.Resources/deployments", "2024-03-01")?.file.rel).toBe("specs/bicep-types/generated/resources_7/microsoft.resources/2024-03-01/types.json");
  });

  it("loads only the types.json files of the namespaces and versions infra/ uses", () => {
    const library = new BicepTypeLibrary(path.join(root, "specs/bicep-types/generated"));
    const fresh = checkBicepTypes(files, library);
    expect(fresh.findings).toEqual([]);
    const used = new Set(fresh.resources.map((r) => r.typesFile));
    expect(library.loadedFiles().filter((file) => !used.has(file))).toEqual(
      // Same namespace and version as resourceGroups, so read by the same lookup.
      ["specs/bicep-types/generated/resources_7/microsoft.resources/2024-03-01/types.json", "specs/bicep-types/generated/resources_9/microsoft.resources/2024-03-01/types.json"],
    );
  });
});

describe(".NET patterns in JavaScript", () => {
  const test = (pattern: string, value: string): boolean | string => {
    const compiled = compileDotNetPattern(pattern);
    return compiled.ok ? compiled.regex.test(value) : compiled.reason;
  };

  it("keeps .NET's meaning of $ (end, or before a final newline) and of \\A and \\z", () => {
    expect(test("^[a-z0-9]+$", "abc\n")).toBe(true);
    expect(test("^[a-z0-9]+$", "abc\n\n")).toBe(false);
    expect(test("\\A[a-z]+\\z", "abc\n")).toBe(false);
    expect(test("\\A[a-z]+\\z", "abc")).toBe(true);
  });

  it("turns a leading (?i) into the i flag", () => {
    expect(test("(?i)^[a-z]+$", "ABC")).toBe(true);
    expect(test("^[a-z]+$", "ABC")).toBe(false);
  });

  it("accepts what .NET accepts without JavaScript's u flag, e.g. [\\w-._]", () => {
    expect(test("^[^_\\W][\\w-._]{0,79}(?<![-.])$", "my-vault.1")).toBe(true);
    expect(test("^[^_\\W][\\w-._]{0,79}(?<![-.])$", "my-vault.")).toBe(false);
  });

  it("refuses .NET-only constructs instead of approximating them", () => {
    expect(test("^(?>a+)b$", "aab")).toBe("atomic group (?>...)");
    expect(test("^[a-z-[aeiou]]+$", "bcd")).toBe("character class subtraction");
    expect(test("^(?'n'a)$", "a")).toBe("named group (?'name'...)");
  });

  it("compiles every pattern of the vendored type data", () => {
    const patterns = new Set<string>();
    for (const file of new BicepTypeLibrary(path.join(root, "specs/bicep-types/generated")).loadAll()) {
      for (const node of file.nodes) if (node.$type === "StringType" && node.pattern !== undefined) patterns.add(node.pattern);
    }
    expect(patterns.size).toBeGreaterThan(10);
    const refused = [...patterns].flatMap((pattern) => {
      const compiled = compileDotNetPattern(pattern);
      return compiled.ok ? [] : [`/${pattern}/: ${compiled.reason}`];
    });
    expect(refused).toEqual([]);
    expect([...report.skippedPatterns.entries()]).toEqual([]);
  });
});
