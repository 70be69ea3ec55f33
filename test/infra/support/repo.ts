// The real tree, loaded once per test file: infra/**/*.bicep as a model (with the hooks' deployment
// commands as callers of the templates they deploy), the hook scripts and the app's sources.
import { readFileSync } from "node:fs";
import path from "node:path";
import { listFiles, loadBicepFiles, repoRoot, type BicepFile } from "./bicep";
import type { SourceText } from "./functions";
import { parseHookDeployments } from "./hooks";
import { BicepModel, type HookDeployment } from "./model";

/** Values azd itself puts in the environment of hooks. */
export const AZD_BUILTIN_ENV = ["AZURE_ENV_NAME", "AZURE_SUBSCRIPTION_ID", "AZURE_LOCATION", "AZURE_PRINCIPAL_ID", "AZURE_TENANT_ID"] as const;

/**
 * azd environment values an operator sets (`azd env set NAME value`) that are not outputs of
 * infra/main.bicep. docs/deploy.md documents each (a test checks that).
 */
export const OPERATOR_ENV = [
  "GALLERY_IDS",
  "SHARE_SUBSCRIPTION_IDS",
  "SHARE_TENANT_IDS",
  "GATED_IMAGES",
  "DURABLE_BACKEND",
  "ENABLE_CROSS_TENANT_APP",
  "EXISTING_CROSS_TENANT_APP_ID",
  "CROSS_TENANT_APP_DISPLAY_NAME",
  "ENABLE_OPERATOR_SIGN_IN",
  "EVENT_SOURCE_SCOPE",
  "ENABLE_REPLICATION_HINTS",
  "ENABLE_PRINCIPAL_SHARING",
] as const;

/** azd environment values a hook sets (`azd env set` in the script) for the deployment after it. */
export const HOOK_ENV = ["CONSENT_STATE_KEY_EXISTS"] as const;

export interface RepoInfra {
  readonly root: string;
  readonly files: BicepFile[];
  readonly model: BicepModel;
  readonly mainPath: string;
  readonly hookScripts: SourceText[];
  readonly deployments: HookDeployment[];
}

function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

export function readSources(root: string, dirs: readonly string[], extensions: readonly string[] = [".ts"]): SourceText[] {
  return dirs.flatMap((dir) => listFiles(path.join(root, dir), extensions)).map((file) => ({ file: rel(root, file), text: readFileSync(file, "utf8") }));
}

export async function loadRepoInfra(root: string = repoRoot()): Promise<RepoInfra> {
  const files = await loadBicepFiles(path.join(root, "infra"), root);
  const hookScripts = readSources(root, ["infra/hooks"], [".sh", ".ps1"]);
  const deployments = hookScripts.flatMap((script) => parseHookDeployments(script.file, script.text, root));
  const mainPath = path.join(root, "infra", "main.bicep");
  return { root, files, model: new BicepModel(files, deployments, mainPath), mainPath, hookScripts, deployments };
}
