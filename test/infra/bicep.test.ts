// The real Bicep CLI (the version tools/bicep pins) builds and lints every template under infra/:
// zero errors and zero warnings, with the linter rules of bicepconfig.json. The compiler reports
// resource type mismatches (unknown property, wrong type, read-only, out of range) as warnings, so
// the zero-warnings bar is what makes them fail here. Fixtures prove each check can fail.
//
// This replaces a type checker of this repository's own (test/infra/support/bicepTypes.ts, over
// vendored bicep-types data), written when no compiler could run here. Each of its rules has a
// compiler diagnostic: unknown type BCP081, unknown or mis-cased property BCP037/BCP089, read-only
// property BCP073, read-only type BCP245, required property BCP035, enum BCP036/BCP088, int range
// BCP327/BCP328, string length and pattern BCP333/BCP416, type mismatch BCP036. The only thing it
// did that the compiler does not was to require each type@apiVersion to be in the vendored data, an
// artifact of vendoring. The compiler also checks what it skipped: expressions, loops, conditions,
// modules and loadJsonContent.
//
// wiring, settings and functions tests keep a parser of their own (tree-sitter-bicep) for what no
// compiler knows: app settings against src/settings.ts, the hooks against the templates, role names.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listFiles, repoRoot } from "./support/bicep";
import {
  BICEP_VERSION,
  describeBicepUnavailable,
  formatDiagnostic,
  locateBicep,
  prepareGraphExtension,
  RESTORE_COMMAND,
  runBicep,
  type BicepCli,
  type BicepRun,
  type Diagnostic,
} from "./support/bicepCli";
import { parseHookDeployments } from "./support/hooks";
import { readSources } from "./support/repo";

const root = repoRoot();
const infra = path.join(root, "infra");
const templates = listFiles(infra, [".bicep"]).map((file) => path.relative(root, file).split(path.sep).join("/"));
const setup = locateBicep();

/** Diagnostics of one file, as "file:line:col Level code". */
function diagnosticsOf(run: BicepRun, rel: string): string[] {
  const abs = path.join(root, rel);
  return run.diagnostics.filter((d: Diagnostic) => d.file === abs).map((d) => formatDiagnostic(d, root));
}

/** The templateHash bicep writes into a compiled template's metadata. */
function templateHash(template: unknown): string | undefined {
  const metadata = (template as { metadata?: { _generator?: { templateHash?: unknown } } }).metadata;
  const hash = metadata?._generator?.templateHash;
  return typeof hash === "string" ? hash : undefined;
}

/** The templateHash of every nested (module) template inside a compiled template. */
function nestedHashes(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) nestedHashes(item, out);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === "template") {
        const hash = templateHash(child);
        if (hash !== undefined) out.add(hash);
      }
      nestedHashes(child, out);
    }
  }
  return out;
}

describe("locateBicep (fake installs in a temporary home)", () => {
  let home: string;

  beforeAll(() => {
    home = mkdtempSync(path.join(os.tmpdir(), "bicep-locate-"));
  });

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  /** A script that answers --version like bicep (or dotnet), at `rel` under the temporary home. */
  function fake(rel: string, version: string, mode = 0o755): string {
    const file = path.join(home, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\necho "Bicep CLI version ${version} (fake)"\n`);
    chmodSync(file, mode);
    return file;
  }

  it("finds the NuGet restore under NUGET_PACKAGES and gives the binary back its exec bit", () => {
    const binary = fake(`packages/azure.bicep.commandline.linux-x64/${BICEP_VERSION}/tools/bicep`, BICEP_VERSION, 0o644);
    const found = locateBicep({ PATH: path.join(home, "empty"), NUGET_PACKAGES: path.join(home, "packages") }, home);
    expect(found).toEqual({ kind: "ready", cli: { path: binary, version: BICEP_VERSION, source: "NuGet" } });
    expect(statSync(binary).mode & 0o111).not.toBe(0);
  });

  it("takes the pinned version wherever it is (PATH, azd, Azure CLI) and passes over others", () => {
    fake("path-bin/bicep", "0.30.3");
    const azd = fake(".azd/bin/bicep", BICEP_VERSION);
    expect(locateBicep({ PATH: path.join(home, "path-bin") }, home)).toEqual({ kind: "ready", cli: { path: azd, version: BICEP_VERSION, source: "azd" } });
    const onPath = fake("path-pinned/bicep", BICEP_VERSION);
    expect(locateBicep({ PATH: [path.join(home, "path-bin"), path.join(home, "path-pinned")].join(path.delimiter) }, home)).toMatchObject({
      kind: "ready",
      cli: { path: onPath, source: "PATH" },
    });
    rmSync(path.join(home, ".azd"), { recursive: true });
  });

  it("in CI, or where dotnet is, a missing bicep fails and names the command that installs it", () => {
    fake("path-bin/bicep", "0.30.3");
    const other = locateBicep({ PATH: path.join(home, "path-bin"), CI: "true" }, path.join(home, "elsewhere"));
    expect(other.kind).toBe("missing");
    expect(other.kind !== "ready" && other.message).toContain(RESTORE_COMMAND);
    expect(other.kind !== "ready" && other.message).toContain("version 0.30.3");
    fake("dotnet-bin/dotnet", "-");
    const withDotnet = locateBicep({ PATH: path.join(home, "dotnet-bin") }, path.join(home, "elsewhere"));
    expect(withDotnet.kind).toBe("missing");
  });

  it("without CI and without dotnet, says in one line that the compiler tests did not run", () => {
    const none = locateBicep({ PATH: path.join(home, "empty") }, path.join(home, "elsewhere"));
    expect(none).toEqual({
      kind: "cannot-run",
      message: `the Bicep compiler tests did not run: no Bicep CLI ${BICEP_VERSION} and no dotnet here; install the .NET SDK and run \`${RESTORE_COMMAND}\``,
    });
  });
});

if (setup.kind !== "ready") {
  describeBicepUnavailable(setup);
} else {
  const cli: BicepCli = setup.cli;

  describe(`Bicep CLI ${BICEP_VERSION}`, () => {
    let out: string;
    let build: BicepRun;
    let lint: BicepRun;
    const compiled = new Map<string, unknown>();

    beforeAll(async () => {
      prepareGraphExtension(cli, root);
      out = mkdtempSync(path.join(os.tmpdir(), "bicep-build-"));
      [build, lint] = await Promise.all([
        runBicep(cli, ["build", "--pattern", "infra/**/*.bicep", "--outdir", out], root),
        runBicep(cli, ["lint", "--pattern", "infra/**/*.bicep"], root),
      ]);
      for (const rel of templates) {
        const json = path.join(out, path.relative("infra", rel).replace(/\.bicep$/, ".json"));
        try {
          compiled.set(rel, JSON.parse(readFileSync(json, "utf8")) as unknown);
        } catch {
          // Not built: the build test names the file.
        }
      }
    });

    afterAll(() => {
      if (out !== undefined) rmSync(out, { recursive: true, force: true });
    });

    it("runs the pinned version", () => {
      expect(cli.version).toBe(BICEP_VERSION);
    });

    it("sees every template under infra/", () => {
      expect(templates).toContain("infra/main.bicep");
      expect(templates.length).toBeGreaterThanOrEqual(14);
      expect(build.otherOutput).toEqual([]);
      expect(lint.otherOutput).toEqual([]);
      // Every diagnostic belongs to a template the tests below look at.
      const known = new Set(templates.map((rel) => path.join(root, rel)));
      expect([...build.diagnostics, ...lint.diagnostics].filter((d) => !known.has(d.file)).map((d) => formatDiagnostic(d, root))).toEqual([]);
    });

    it.each(templates)("bicep build %s: no errors, no warnings", (rel) => {
      expect(diagnosticsOf(build, rel)).toEqual([]);
      expect(compiled.has(rel)).toBe(true);
    });

    it.each(templates)("bicep lint %s: no diagnostics", (rel) => {
      expect(diagnosticsOf(lint, rel)).toEqual([]);
    });

    it("the build and the lint succeed as a whole", () => {
      expect(build.code).toBe(0);
      expect(lint.code).toBe(0);
    });

    it("every template is deployed: main.bicep, a template a hook deploys, or a module of one of them", () => {
      const hooks = readSources(root, ["infra/hooks"], [".sh", ".ps1"]);
      const hookTemplates = hooks
        .flatMap((script) => parseHookDeployments(script.file, script.text, root))
        .map((d) => path.relative(root, d.templatePath).split(path.sep).join("/"));
      expect(new Set(hookTemplates)).toEqual(new Set(["infra/access.bicep", "infra/app/event-subscription.bicep"]));
      const entries = ["infra/main.bicep", ...hookTemplates];
      const reachable = new Set<string>();
      for (const entry of entries) {
        const hash = templateHash(compiled.get(entry));
        if (hash !== undefined) reachable.add(hash);
        for (const nested of nestedHashes(compiled.get(entry))) reachable.add(nested);
      }
      const undeployed = templates.filter((rel) => {
        const hash = templateHash(compiled.get(rel));
        return hash === undefined || !reachable.has(hash);
      });
      expect(undeployed).toEqual([]);
    });

    it("replication hints: a Resource Notifications topic per gallery subscription, and a subscription filtered by the topic's type", () => {
      const source = JSON.stringify(compiled.get("infra/app/event-source.bicep"));
      expect(source).toContain("Microsoft.ResourceNotifications.Resources");
      const access = compiled.get("infra/access.bicep") as { parameters?: Record<string, { defaultValue?: unknown }> } | undefined;
      expect(access?.parameters?.enableReplicationHints?.defaultValue).toBe(true);
      expect(JSON.stringify(access)).toContain("'resourceNotifications'");
      const subscription = JSON.stringify(compiled.get("infra/app/event-subscription.bicep"));
      for (const needle of [
        "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated",
        "data.resourceInfo.type",
        "Microsoft.Resources.ResourceWriteSuccess",
        "topicType",
      ]) {
        expect(subscription).toContain(needle);
      }
    });

    it("the version promoter: a custom role with galleries/images/versions/write only, assignable at the gallery only, given to the app's identity", () => {
      const rbac = compiled.get("infra/app/gallery-rbac.bicep") as
        { resources?: Array<{ type?: string; name?: string; properties?: Record<string, unknown> }> } | undefined;
      const roles = (rbac?.resources ?? []).filter((r) => r.type === "Microsoft.Authorization/roleDefinitions");
      expect(roles).toHaveLength(1);
      const role = roles[0]?.properties ?? {};
      expect(role.type).toBe("customRole");
      expect(role.permissions).toEqual([
        { actions: ["Microsoft.Compute/galleries/images/versions/write"], notActions: [], dataActions: [], notDataActions: [] },
      ]);
      expect(role.assignableScopes).toEqual(["[resourceId('Microsoft.Compute/galleries', parameters('galleryName'))]"]);
      const assignment = (rbac?.resources ?? []).find(
        (r) =>
          r.type === "Microsoft.Authorization/roleAssignments" && JSON.stringify(r.properties?.roleDefinitionId).includes("gallery-share-version-promoter"),
      );
      expect(assignment?.properties?.principalId).toBe("[parameters('principalId')]");
    });

    it("deploys infra/servicebus-queue.json as the queue's properties, exactly (loadJsonContent)", () => {
      const messaging = compiled.get("infra/app/messaging.bicep") as
        { variables?: Record<string, unknown>; resources?: Array<{ type?: string; properties?: unknown }> } | undefined;
      const queue = messaging?.resources?.find((r) => r.type === "Microsoft.ServiceBus/namespaces/queues");
      // bicep puts the loaded content in a variable of its own and refers to it.
      const variable = /^\[variables\('([^']+)'\)\]$/.exec(typeof queue?.properties === "string" ? queue.properties : "")?.[1];
      expect(variable).toBeDefined();
      expect(messaging?.variables?.[variable ?? ""]).toEqual(JSON.parse(readFileSync(path.join(root, "infra/servicebus-queue.json"), "utf8")) as unknown);
    });
  });

  describe("the checks fail where they should (fixtures)", () => {
    const broken = "test/infra/fixtures/broken.bicep";
    const typeErrors = "test/infra/fixtures/compiler/type-errors.bicep";
    const lintFindings = "test/infra/fixtures/compiler/lint-findings.bicep";
    let scratch: string;
    let brokenRun: BicepRun;
    let typeErrorsRun: BicepRun;
    let lintRun: BicepRun;
    let queueRun: BicepRun;
    let misspelt: unknown;

    beforeAll(async () => {
      // A copy of messaging.bicep beside a copy of the queue settings with lockDuration misspelt.
      scratch = mkdtempSync(path.join(os.tmpdir(), "bicep-fixtures-"));
      mkdirSync(path.join(scratch, "app"));
      writeFileSync(path.join(scratch, "bicepconfig.json"), readFileSync(path.join(root, "bicepconfig.json")));
      writeFileSync(path.join(scratch, "app", "messaging.bicep"), readFileSync(path.join(infra, "app", "messaging.bicep")));
      const { lockDuration, ...settings } = JSON.parse(readFileSync(path.join(infra, "servicebus-queue.json"), "utf8")) as Record<string, unknown>;
      misspelt = lockDuration;
      writeFileSync(path.join(scratch, "servicebus-queue.json"), JSON.stringify({ ...settings, lockDurration: lockDuration }, null, 2));
      [brokenRun, typeErrorsRun, lintRun, queueRun] = await Promise.all([
        runBicep(cli, ["build", broken, "--stdout"], root),
        runBicep(cli, ["build", typeErrors, "--stdout"], root),
        runBicep(cli, ["lint", lintFindings], root),
        runBicep(cli, ["build", "app/messaging.bicep", "--stdout"], scratch),
      ]);
    });

    afterAll(() => {
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    });

    it("a syntax error fails the build with the compiler's codes and position", () => {
      expect(brokenRun.code).not.toBe(0);
      expect(brokenRun.stdout).toBe("");
      expect(diagnosticsOf(brokenRun, broken)).toEqual([`${broken}:11:33 Error BCP236`, `${broken}:11:33 Error BCP022`, `${broken}:11:34 Error BCP018`]);
    });

    it("an unknown property and a wrong type on a real resource type: BCP037 and BCP036, warnings the bar refuses", () => {
      // The compiler alone would let this through: exit code 0 and a template.
      expect(typeErrorsRun.code).toBe(0);
      expect(typeErrorsRun.stdout).toContain('"allowPublicBlobs": false');
      expect(diagnosticsOf(typeErrorsRun, typeErrors)).toEqual([`${typeErrors}:18:5 Warning BCP037`, `${typeErrors}:20:31 Warning BCP036`]);
      expect(typeErrorsRun.diagnostics[0]?.message).toContain('The property "allowPublicBlobs" is not allowed');
    });

    it("bicepconfig.json applies to files outside infra/ and makes its rules errors", () => {
      expect(lintRun.code).not.toBe(0);
      expect(diagnosticsOf(lintRun, lintFindings).map((d) => d.slice(lintFindings.length + 1))).toEqual([
        "7:7 Error no-unused-params",
        "11:28 Error secure-parameter-default",
        "17:30 Error no-hardcoded-env-urls",
        "20:9 Error prefer-interpolation",
        "33:1 Error outputs-should-not-contain-secrets",
        "33:26 Error outputs-should-not-contain-secrets",
      ]);
    });

    it("type-checks what loadJsonContent loads: a misspelt queue setting in servicebus-queue.json is BCP089", () => {
      expect(misspelt).toBe("PT2M");
      // BCP089: an unknown property with a near miss, named.
      expect(queueRun.diagnostics.map((d) => `${d.level} ${d.code}`)).toEqual(["Warning BCP089"]);
      expect(queueRun.diagnostics[0]?.message).toMatch(/"lockDurration" is not allowed .* Did you mean "lockDuration"\?/);
    });
  });
}
