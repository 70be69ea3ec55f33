// The real Bicep CLI for the infrastructure tests: where to find it, how to run it and how to read
// its diagnostics. The tests pin one version (tools/bicep restores it from NuGet), so that a rule or
// type-data change in another bicep on the machine cannot change their result.
import { execFile, spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

export const BICEP_VERSION = "0.49.2";
export const TOOLS_PROJECT = "tools/bicep/Bicep.Tools.csproj";
export const RESTORE_COMMAND = `dotnet restore ${TOOLS_PROJECT}`;
/** The NuGet package with the native binary (linux-x64 only; elsewhere put bicep on PATH). */
const NUGET_PACKAGE = "azure.bicep.commandline.linux-x64";

export interface BicepCli {
  readonly path: string;
  readonly version: string;
  /** Where it was found: PATH, azd, Azure CLI or NuGet. */
  readonly source: string;
}

/** Ready to run; or missing (the tests fail with the message); or, without dotnet outside CI, cannot run here. */
export type BicepSetup =
  | { readonly kind: "ready"; readonly cli: BicepCli }
  | { readonly kind: "missing"; readonly message: string }
  | { readonly kind: "cannot-run"; readonly message: string };

interface Candidate {
  readonly path: string;
  readonly source: string;
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` in the directories of PATH. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Where bicep may be, in the order looked at. */
export function bicepCandidates(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): Candidate[] {
  const onPath = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => ({ path: path.join(dir, "bicep"), source: "PATH" }));
  const packages = env.NUGET_PACKAGES || path.join(home, ".nuget", "packages");
  return [
    ...onPath,
    { path: path.join(home, ".azd", "bin", "bicep"), source: "azd" },
    { path: path.join(home, ".azure", "bin", "bicep"), source: "Azure CLI" },
    { path: path.join(packages, NUGET_PACKAGE, BICEP_VERSION, "tools", "bicep"), source: "NuGet" },
  ];
}

function run(file: string, args: readonly string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr: error !== null && code === -1 ? `${stderr}${error.message}\n` : stderr });
    });
  });
}

/** "Bicep CLI version 0.49.2 (b34271ac51)" -> "0.49.2". */
export function parseBicepVersion(output: string): string | undefined {
  return /Bicep CLI version (\d+\.\d+\.\d+)/.exec(output)?.[1];
}

/** Finds the pinned bicep, or says why not; `env` and `home` are parameters so that tests can vary them. */
export function locateBicep(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): BicepSetup {
  const others: string[] = [];
  for (const candidate of bicepCandidates(env, home)) {
    let exists = false;
    try {
      exists = statSync(candidate.path).isFile();
    } catch {
      exists = false;
    }
    if (!exists) continue;
    // A NuGet restore may drop the exec bit of the package's files.
    if (candidate.source === "NuGet" && !isExecutable(candidate.path)) chmodSync(candidate.path, statSync(candidate.path).mode | 0o111);
    if (!isExecutable(candidate.path)) continue;
    const version = parseBicepVersion(spawnSync(candidate.path, ["--version"], { encoding: "utf8", timeout: 60_000 }).stdout ?? "");
    if (version === BICEP_VERSION) return { kind: "ready", cli: { path: candidate.path, version, source: candidate.source } };
    others.push(`${candidate.path} is ${version === undefined ? "not a working bicep" : `version ${version}`}`);
  }
  const found = others.length > 0 ? ` (${others.join("; ")})` : "";
  if (env.CI === "true" || findOnPath("dotnet", env) !== undefined) {
    return {
      kind: "missing",
      message: `Bicep CLI ${BICEP_VERSION} not found on PATH, in ~/.azd/bin, ~/.azure/bin or the NuGet packages folder${found}: run \`${RESTORE_COMMAND}\``,
    };
  }
  return {
    kind: "cannot-run",
    message: `the Bicep compiler tests did not run: no Bicep CLI ${BICEP_VERSION} and no dotnet here; install the .NET SDK and run \`${RESTORE_COMMAND}\``,
  };
}

export interface Diagnostic {
  /** Absolute path as bicep prints it. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly level: "Error" | "Warning" | "Info";
  /** BCP code or linter rule name. */
  readonly code: string;
  readonly message: string;
}

export interface BicepRun {
  readonly code: number;
  readonly stdout: string;
  readonly diagnostics: Diagnostic[];
  /** Lines of stderr that are not diagnostics (a crash, a usage error): none is expected. */
  readonly otherOutput: string[];
}

const DIAGNOSTIC = /^(.+)\((\d+),(\d+)\) : (Error|Warning|Info) ([^:]+): (.*?)(?: \[https?:\/\/[^\]]+\])?$/;

export function parseDiagnostics(stderr: string): { diagnostics: Diagnostic[]; otherOutput: string[] } {
  const diagnostics: Diagnostic[] = [];
  const otherOutput: string[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = DIAGNOSTIC.exec(line);
    if (m === null) {
      otherOutput.push(line);
      continue;
    }
    const [, file = "", row = "0", col = "0", level = "Error", code = "", message = ""] = m;
    diagnostics.push({ file, line: Number(row), column: Number(col), level: level as Diagnostic["level"], code, message });
  }
  return { diagnostics, otherOutput };
}

/** Runs `bicep <args>` and reads its diagnostics (bicep writes them to stderr). */
export async function runBicep(cli: BicepCli, args: readonly string[], cwd?: string): Promise<BicepRun> {
  const result = await run(cli.path, args, cwd);
  return { code: result.code, stdout: result.stdout, ...parseDiagnostics(result.stderr) };
}

/** "file:line:col Level code" relative to `root`, for assertions that name what went wrong. */
export function formatDiagnostic(d: Diagnostic, root: string): string {
  return `${path.relative(root, d.file).split(path.sep).join("/")}:${d.line}:${d.column} ${d.level} ${d.code}`;
}

/**
 * Builds the Microsoft Graph extension package bicepconfig.json names (tools/graph-extension.mjs)
 * with this CLI when it is missing or older than the vendored types; throws with the tool's message.
 */
export function prepareGraphExtension(cli: BicepCli, root: string): void {
  const run = spawnSync(process.execPath, [path.join(root, "tools", "graph-extension.mjs"), "--bicep", cli.path], { encoding: "utf8", timeout: 180_000 });
  if (run.status !== 0) throw new Error(`tools/graph-extension.mjs failed: ${run.stderr}${run.stdout}`);
}

/** Where the compiler cannot run: one test that says why (and fails in CI, or where dotnet could restore it). */
export function describeBicepUnavailable(setup: Exclude<BicepSetup, { kind: "ready" }>): void {
  describe("Bicep CLI", () => {
    if (setup.kind === "cannot-run") {
      it("cannot run on this machine: no Bicep CLI, no dotnet to restore it, not CI", () => {
        // The one line that says what did not run and what installs it.
        console.warn(setup.message);
        expect(findOnPath("dotnet")).toBeUndefined();
        expect(process.env.CI).not.toBe("true");
      });
    } else {
      it(`${BICEP_VERSION} is installed`, () => {
        expect.fail(setup.message);
      });
    }
  });
}
