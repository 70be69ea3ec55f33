// Builds the Microsoft Graph Bicep extension package that infra/ declares the Entra objects with
// (bicepconfig.json: extensions.microsoftGraphV1), from the vendored v1.0 types
// (specs/msgraph-bicep-types), with the Bicep CLI's `publish-extension`. The package is not
// committed: it is a build product of the types. The preprovision hook runs this before azd compiles
// infra/, the infrastructure tests before they build it.
//
//   node tools/graph-extension.mjs [--bicep <path>] [--force]
//
// It rebuilds only when the package is missing or older than the types. Without --bicep it uses the
// first bicep found on PATH, in ~/.azd/bin (azd's), in ~/.azure/bin (`az bicep install`) or in the
// NuGet packages folder (tools/bicep). A template compiled against the package records only the
// extension's name and version (MicrosoftGraph 1.0.0), as with the published registry reference.
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const types = path.join(root, "specs", "msgraph-bicep-types", "generated", "microsoftgraph", "microsoft.graph", "v1.0", "1.0.0");
const index = path.join(types, "index.json");
export const PACKAGE = path.join(root, "infra", "extensions", "microsoftgraph-v1.0.tgz");

const exe = process.platform === "win32" ? "bicep.exe" : "bicep";

function executable(file) {
  try {
    if (!statSync(file).isFile()) return false;
    if (process.platform !== "win32") accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every bicep binary the machine has, in the order tried. */
function candidates() {
  const home = os.homedir();
  const onPath = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => path.join(dir, exe));
  const nuget = path.join(process.env.NUGET_PACKAGES || path.join(home, ".nuget", "packages"), "azure.bicep.commandline.linux-x64");
  let restored = [];
  try {
    restored = readdirSync(nuget).map((version) => path.join(nuget, version, "tools", "bicep"));
  } catch {
    restored = [];
  }
  return [...onPath, path.join(home, ".azd", "bin", exe), path.join(home, ".azure", "bin", exe), ...restored];
}

function newestInput() {
  return Math.max(...["index.json", "types.json"].map((file) => statSync(path.join(types, file)).mtimeMs));
}

/** Builds the package when needed; returns what it did, or throws with the reason. */
export function buildGraphExtension({ bicep, force = false } = {}) {
  if (!force) {
    try {
      if (statSync(PACKAGE).mtimeMs >= newestInput()) return { built: false, path: PACKAGE };
    } catch {
      // missing: build it
    }
  }
  const cli = bicep ?? candidates().find(executable);
  if (cli === undefined) {
    throw new Error("no Bicep CLI found (PATH, ~/.azd/bin, ~/.azure/bin, NuGet packages): install one with `az bicep install` and run this again");
  }
  mkdirSync(path.dirname(PACKAGE), { recursive: true });
  // Written beside it, then renamed: a compiler reading the package never sees half of one.
  const partial = `${PACKAGE}.${process.pid}.partial`;
  const run = spawnSync(cli, ["publish-extension", index, "--target", partial, "--force"], { encoding: "utf8", timeout: 180_000 });
  // publish-extension prints a warning that the command is experimental; anything else on a failure is the reason.
  if (run.status !== 0) {
    const said = `${run.stderr ?? ""}${run.stdout ?? ""}${run.error?.message ?? ""}`.trim();
    rmSync(partial, { force: true });
    throw new Error(`${cli} publish-extension failed (exit ${run.status}): ${said}`);
  }
  renameSync(partial, PACKAGE);
  return { built: true, path: PACKAGE, bicep: cli };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--bicep");
  try {
    const result = buildGraphExtension({ bicep: at >= 0 ? args[at + 1] : undefined, force: args.includes("--force") });
    const where = path.relative(root, result.path);
    console.log(result.built ? `Built the Microsoft Graph Bicep extension ${where} with ${result.bicep}` : `${where} is up to date`);
  } catch (error) {
    console.error(`graph-extension: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
