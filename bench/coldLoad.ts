// Cold-load benchmark: CPU time a fresh Node process spends requiring the app's entry module
// (what the Functions worker does on a cold start), against requiring the SDKs the app uses, all
// at once. The app is compiled into a temporary directory; each measurement is its own child
// process, alternating app / SDKs so drift (CPU frequency, page cache, other load) hits both alike.
// `--check` fails when the app costs more than half of its SDKs: loading each SDK where it is
// first needed should keep the entry well below them.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface LoadSample {
  /** User + system CPU for the require calls alone, from the child's process.cpuUsage(). */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** Modules in the child's require cache afterwards. */
  readonly modules: number;
  /** Which of the dependencies ended up loaded (directly or by another package). */
  readonly loaded: readonly string[];
}

export interface LoadSeries {
  readonly label: string;
  readonly medianCpuMs: number;
  readonly medianWallMs: number;
  readonly samples: readonly LoadSample[];
}

export interface ColdLoadResult {
  readonly node: string;
  readonly rounds: number;
  /** package.json dependencies the compiled app requires somewhere (at start-up or later). */
  readonly appSdks: readonly string[];
  /** Every package.json dependency. */
  readonly allDependencies: readonly string[];
  readonly app: LoadSeries;
  readonly sdks: LoadSeries;
  readonly everyDependency: LoadSeries;
  /** app / sdks, the number `--check` holds to MAX_RATIO. */
  readonly ratio: number;
  readonly ratioToEveryDependency: number;
  /** Non-empty when tsc reported errors but still emitted the entry (someone's edit in progress). */
  readonly buildWarnings: string;
}

export interface ColdLoadOptions {
  /** Measured rounds of app, SDKs, every dependency; one more warm-up round runs first and is dropped. */
  readonly rounds?: number;
  readonly repoRoot?: string;
}

export const MAX_RATIO = 0.5;
const CHILD_TIMEOUT_MS = 120_000;
/** Directories deep enough for dist/src/<area>/<file>.js; anything deeper is not the app. */
const MAX_SCAN_DEPTH = 6;

/** A valid minimal environment (as in test/unit/config.test.ts), so the entry's config check passes. */
const APP_ENV = {
  GALLERY_IDS: "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden_images",
  AZURE_TENANT_ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
};

// Runs in the child. Console is silenced first because @azure/functions logs that it runs in test
// mode outside the worker; the numbers go to stdout directly, after the measurement.
const CHILD = `
const { createRequire } = require("node:module");
const { performance } = require("node:perf_hooks");
const { base, modules, dependencies } = JSON.parse(process.argv[1]);
for (const k of ["log", "info", "warn", "error", "debug", "trace"]) console[k] = () => {};
const load = createRequire(base);
const wall0 = performance.now();
const cpu0 = process.cpuUsage();
for (const m of modules) load(m);
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - wall0;
const keys = Object.keys(require.cache).map((k) => k.split("\\\\").join("/"));
const loaded = dependencies.filter((d) => keys.some((k) => k.includes("/node_modules/" + d + "/")));
process.stdout.write("COLD_LOAD " + JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs, modules: keys.length, loaded }) + "\\n", () => process.exit(0));
`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One fresh process that requires `modules` resolved from `base` and reports its own cost. */
function measureOnce(base: string, modules: readonly string[], dependencies: readonly string[]): LoadSample {
  // A clean environment: no NODE_OPTIONS from tsx or the shell, no compile cache, only what the app reads.
  const env = { PATH: process.env["PATH"] ?? "", ...APP_ENV };
  const child = spawnSync(process.execPath, ["-e", CHILD, JSON.stringify({ base, modules, dependencies })], {
    env,
    encoding: "utf8",
    timeout: CHILD_TIMEOUT_MS,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = child.stdout.split("\n").find((l) => l.startsWith("COLD_LOAD "));
  if (child.status !== 0 || line === undefined) {
    throw new Error(`cold-load child for ${modules.join(", ")} failed (exit ${child.status ?? child.signal}): ${child.stderr.trim().slice(-2000)}`);
  }
  return JSON.parse(line.slice("COLD_LOAD ".length)) as LoadSample;
}

/** Bare package names the compiled app requires anywhere: eager top-level requires and lazy ones alike. */
function requiredPackages(dir: string, dependencies: readonly string[], depth = 0): Set<string> {
  const found = new Set<string>();
  if (depth > MAX_SCAN_DEPTH) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") for (const p of requiredPackages(full, dependencies, depth + 1)) found.add(p);
    if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
    const text = readFileSync(full, "utf8");
    for (const m of text.matchAll(/\brequire\(\s*["']([^"'.][^"']*)["']\s*\)|\bimport\(\s*["']([^"'.][^"']*)["']\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? "";
      const dep = dependencies.find((d) => spec === d || spec.startsWith(`${d}/`));
      if (dep !== undefined) found.add(dep);
    }
  }
  return found;
}

/** Compiles src with the build config into a fresh temporary directory that resolves the repo's node_modules. */
function buildApp(root: string): { outDir: string; warnings: string; cleanup: () => void } {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "gallery-share-coldload-"));
  const link = path.join(outDir, "node_modules");
  const cleanup = (): void => {
    // Remove the link itself first so nothing can walk into the repo's node_modules.
    if (existsSync(link)) unlinkSync(link);
    rmSync(outDir, { recursive: true, force: true });
  };
  try {
    symlinkSync(path.join(root, "node_modules"), link, "dir");
    const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
    const build = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json"), "--outDir", outDir], {
      cwd: root,
      encoding: "utf8",
      timeout: CHILD_TIMEOUT_MS,
    });
    const entry = path.join(outDir, "src", "functions", "index.js");
    if (!existsSync(entry)) throw new Error(`tsc did not emit ${entry}: ${build.stdout}${build.stderr}`);
    return { outDir, warnings: build.status === 0 ? "" : `${build.stdout}${build.stderr}`.trim(), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

export function measureColdLoad(options: ColdLoadOptions = {}): ColdLoadResult {
  const root = options.repoRoot ?? path.resolve(__dirname, "..");
  const rounds = Math.max(1, options.rounds ?? 11);
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  const allDependencies = Object.keys(pkg.dependencies ?? {}).sort();
  const build = buildApp(root);
  try {
    const appSdks = [...requiredPackages(path.join(build.outDir, "src"), allDependencies)].sort();
    const fromRepo = path.join(root, "package.json");
    const runs = [
      { label: "app entry (src/app.ts, compiled)", base: path.join(build.outDir, "src", "app.js"), modules: ["./app.js"] },
      { label: `SDKs the app requires, eagerly (${appSdks.length})`, base: fromRepo, modules: appSdks },
      { label: `every dependency, eagerly (${allDependencies.length})`, base: fromRepo, modules: allDependencies },
    ];
    const samples: LoadSample[][] = runs.map(() => []);
    for (let round = 0; round <= rounds; round++) {
      for (const [i, run] of runs.entries()) {
        let sample: LoadSample;
        try {
          sample = measureOnce(run.base, run.modules, allDependencies);
        } catch (err) {
          // A working tree mid-edit compiles with errors and may not load: say so next to the failure.
          if (!build.warnings) throw err;
          throw new Error(`${err instanceof Error ? err.message : String(err)}\n\ntsc reported errors building src:\n${build.warnings.slice(0, 2000)}`, {
            cause: err,
          });
        }
        // Round 0 warms the page cache for every file the later rounds read.
        if (round > 0) samples[i]!.push(sample);
      }
    }
    const [app, sdks, everyDependency] = runs.map((run, i): LoadSeries => ({
      label: run.label,
      medianCpuMs: median(samples[i]!.map((s) => s.cpuMs)),
      medianWallMs: median(samples[i]!.map((s) => s.wallMs)),
      samples: samples[i]!,
    })) as [LoadSeries, LoadSeries, LoadSeries];
    return {
      node: process.version,
      rounds,
      appSdks,
      allDependencies,
      app,
      sdks,
      everyDependency,
      ratio: app.medianCpuMs / sdks.medianCpuMs,
      ratioToEveryDependency: app.medianCpuMs / everyDependency.medianCpuMs,
      buildWarnings: build.warnings,
    };
  } finally {
    build.cleanup();
  }
}

export function formatColdLoad(r: ColdLoadResult): string {
  const row = (s: LoadSeries): string => {
    const last = s.samples[s.samples.length - 1];
    const cpu = s.samples.map((x) => x.cpuMs);
    const range = `${Math.min(...cpu).toFixed(0)}-${Math.max(...cpu).toFixed(0)} ms`;
    return `${s.label.padEnd(48)} ${`${s.medianCpuMs.toFixed(1)} ms`.padStart(10)} ${range.padStart(14)} ${`${s.medianWallMs.toFixed(1)} ms`.padStart(10)} ${String(last?.modules ?? 0).padStart(8)}`;
  };
  const appLoaded = r.app.samples[r.app.samples.length - 1]?.loaded ?? [];
  const lines = [
    `Cold load: median of ${r.rounds} fresh node ${r.node} processes each (one warm-up round dropped), CPU = user + system for the require`,
    "",
    `${"what is required".padEnd(48)} ${"CPU".padStart(10)} ${"CPU range".padStart(14)} ${"wall".padStart(10)} ${"modules".padStart(8)}`,
    row(r.app),
    row(r.sdks),
    row(r.everyDependency),
    "",
    `SDKs the app requires: ${r.appSdks.join(", ")}`,
    `loaded by the app entry itself: ${appLoaded.length === 0 ? "none" : appLoaded.join(", ")}`,
    `ratio app / SDKs the app requires: ${r.ratio.toFixed(2)} (--check fails above ${MAX_RATIO.toFixed(2)})`,
    `ratio app / every dependency: ${r.ratioToEveryDependency.toFixed(2)}`,
  ];
  if (r.buildWarnings) lines.push("", `warning: tsc reported errors (measured what it emitted anyway):\n${r.buildWarnings.slice(0, 2000)}`);
  return lines.join("\n");
}

/** Prints the measurement; with `--check`, sets a failing exit code when the ratio is above MAX_RATIO. */
export function runColdLoadBench(args: readonly string[]): void {
  const result = measureColdLoad();
  console.log(formatColdLoad(result));
  if (args.includes("--check") && result.ratio > MAX_RATIO) {
    console.error(`cold load: the app entry costs ${result.ratio.toFixed(2)} of its SDKs, above ${MAX_RATIO}`);
    process.exitCode = 1;
  }
}

if (require.main === module) runColdLoadBench(process.argv.slice(2));
