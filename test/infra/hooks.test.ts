// The POSIX hooks that decide about Entra objects and the consent-state key, run for real with a
// recording `az` and `azd` first on PATH (the answers are Azure CLI's: ids on stdout, a
// "(ResourceNotFound)" error and exit code 3 for a missing resource).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/bicep";

const root = repoRoot();
const VAULT = "/subscriptions/s1/resourceGroups/rg-dev/providers/Microsoft.KeyVault/vaults/kv-abc";
const IDENTITY = "11111111-1111-4111-8111-111111111111";
const APP = "22222222-2222-4222-8222-222222222222";

// Answers by the first words of the command; FAKE_* variables choose the situation.
const FAKE_AZ = `#!/bin/sh
echo "az $*" >> "$FAKE_LOG"
case "$1 $2 $3" in
  "group exists "*) echo "\${FAKE_GROUP_EXISTS:-true}" ;;
  "keyvault list "*) [ "\${FAKE_VAULT:-yes}" = yes ] && echo "${VAULT}" ;;
  "resource show "*)
    case "\${FAKE_SECRET:-absent}" in
      present) echo "${VAULT}/secrets/consent-state-key" ;;
      absent) echo "ERROR: (ResourceNotFound) The Resource 'Microsoft.KeyVault/vaults/kv-abc/secrets/consent-state-key' was not found." >&2; exit 3 ;;
      *) echo "ERROR: (AuthorizationFailed) The client does not have authorization." >&2; exit 1 ;;
    esac ;;
  "ad app federated-credential") [ "\${FAKE_TRUSTS:-yes}" = yes ] && echo "gallery-share-managed-identity" ;;
  "ad app show") echo "\${FAKE_SIGNIN_OURS:-1}" ;;
esac
exit 0
`;
const FAKE_AZD = `#!/bin/sh
echo "azd $*" >> "$FAKE_LOG"
`;

describe("hooks with a recording az and azd", () => {
  let bin: string;
  let log: string;

  beforeAll(() => {
    bin = mkdtempSync(path.join(os.tmpdir(), "hooks-bin-"));
    log = path.join(bin, "calls.log");
    for (const [name, text] of [
      ["az", FAKE_AZ],
      ["azd", FAKE_AZD],
    ] as const) {
      writeFileSync(path.join(bin, name), text);
      chmodSync(path.join(bin, name), 0o755);
    }
  });

  afterAll(() => {
    rmSync(bin, { recursive: true, force: true });
  });

  const run = (script: string, env: Record<string, string>): { code: number | null; out: string; calls: string[] } => {
    writeFileSync(log, "");
    const result = spawnSync("sh", [path.join(root, "infra/hooks", script)], {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000,
      env: {
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
        HOME: process.env.HOME ?? os.homedir(),
        FAKE_LOG: log,
        AZURE_ENV_NAME: "dev",
        AZURE_SUBSCRIPTION_ID: "s1",
        ...env,
      },
    });
    return {
      code: result.status,
      out: `${result.stdout}${result.stderr}`,
      calls: readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => line !== ""),
    };
  };

  describe("preprovision: the consent-state key is kept once it exists", () => {
    it("first provisioning (no resource group yet): the deployment creates the key", () => {
      const { code, calls } = run("preprovision.sh", { FAKE_GROUP_EXISTS: "false" });
      expect(code).toBe(0);
      expect(calls).toEqual(["az group exists --subscription s1 --name rg-dev", "azd env set CONSENT_STATE_KEY_EXISTS false"]);
    });

    it("a vault without the key: false; a vault with it: true, so a re-deployment keeps it", () => {
      expect(run("preprovision.sh", { FAKE_SECRET: "absent", AZURE_RESOURCE_GROUP: "rg-dev" }).calls.at(-1)).toBe("azd env set CONSENT_STATE_KEY_EXISTS false");
      const present = run("preprovision.sh", { FAKE_SECRET: "present", AZURE_RESOURCE_GROUP: "rg-dev" });
      expect(present.calls).toContain(`az resource show --ids ${VAULT}/secrets/consent-state-key --query id --output tsv`);
      expect(present.calls.at(-1)).toBe("azd env set CONSENT_STATE_KEY_EXISTS true");
      expect(present.out).toContain("present, kept");
    });

    it("when it cannot tell (no right to read), it stops instead of replacing the key", () => {
      const { code, calls, out } = run("preprovision.sh", { FAKE_SECRET: "denied" });
      expect(code).not.toBe(0);
      expect(out).toContain("AuthorizationFailed");
      expect(calls.some((call) => call.startsWith("azd env set"))).toBe(false);
    });

    it("builds the Microsoft Graph extension package first", () => {
      const { out } = run("preprovision.sh", { FAKE_GROUP_EXISTS: "false" });
      expect(out).toMatch(/infra\/extensions\/microsoftgraph-v1\.0\.tgz (is up to date|with )|Built the Microsoft Graph Bicep extension/);
    });
  });

  describe("predown: deletes the app registration this environment created, and only that one", () => {
    const env = {
      GALLERY_IDS: "/subscriptions/s1/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/g1",
      AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID: IDENTITY,
      CROSS_TENANT_APP_ID: APP,
    };

    it("created here and trusting this environment's identity: deleted", () => {
      const { code, calls } = run("predown.sh", { ...env, CROSS_TENANT_APP_CREATED: "true" });
      expect(code).toBe(0);
      expect(calls).toContain(`az ad app federated-credential list --id ${APP} --query [?subject=='${IDENTITY}'].name --output tsv`);
      expect(calls.at(-1)).toBe(`az ad app delete --id ${APP} --output none`);
    });

    it("an existing registration the user brought (CROSS_TENANT_APP_CREATED false): never touched", () => {
      const { calls } = run("predown.sh", { ...env, CROSS_TENANT_APP_CREATED: "false" });
      expect(calls.filter((call) => call.startsWith("az ad "))).toEqual([]);
    });

    it("the operators' sign-in registration: deleted when it sends its users to this environment's app, kept otherwise", async () => {
      const signIn = {
        GALLERY_IDS: env.GALLERY_IDS,
        AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID: IDENTITY,
        OPERATOR_SIGN_IN_APP_ID: "33333333-3333-4333-8333-333333333333",
        AZURE_FUNCTION_HOST: "func-api-x.azurewebsites.net",
      };
      const ours = run("predown.sh", signIn);
      expect(ours.calls).toContain(
        "az ad app show --id 33333333-3333-4333-8333-333333333333 --query web.redirectUris[?@=='https://func-api-x.azurewebsites.net/.auth/login/aad/callback'] | length(@) --output tsv",
      );
      expect(ours.calls.at(-1)).toBe("az ad app delete --id 33333333-3333-4333-8333-333333333333 --output none");
      const other = run("predown.sh", { ...signIn, FAKE_SIGNIN_OURS: "0" });
      expect(other.calls.some((call) => call.startsWith("az ad app delete"))).toBe(false);
      expect(other.out).toContain("not deleting app registration 33333333-3333-4333-8333-333333333333");
    });

    it("a registration that does not trust this environment's identity (another one's): not deleted, with a warning", () => {
      const { calls, out } = run("predown.sh", { ...env, CROSS_TENANT_APP_CREATED: "true", FAKE_TRUSTS: "no" });
      expect(calls.some((call) => call.startsWith("az ad app delete"))).toBe(false);
      expect(out).toContain(`not deleting app registration ${APP}`);
    });
  });
});
