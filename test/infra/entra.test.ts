// The Entra side of `azd up`, proven on the ARM template the real Bicep CLI compiles from
// infra/main.bicep (with the Microsoft Graph extension built from the vendored types): each value
// that matters is followed through parameters, variables and module outputs to where it comes from
// (support/armTemplate.ts), and compared with what the wiring must be.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { moduleScope, resolve, resourcesOf, strings, type ArmScope, type ArmTemplate } from "./support/armTemplate";
import { repoRoot } from "./support/bicep";
import { describeBicepUnavailable, locateBicep, prepareGraphExtension, runBicep } from "./support/bicepCli";

const root = repoRoot();
const setup = locateBicep();

// Microsoft's token-exchange audiences per cloud (msgraph-bicep-types, msi-as-a-fic-secretless).
const AUDIENCES = {
  AzureCloud: "api://AzureADTokenExchange",
  AzureUSGovernment: "api://AzureADTokenExchangeUSGov",
  USNat: "api://AzureADTokenExchangeUSNat",
  USSec: "api://AzureADTokenExchangeUSSec",
  AzureChinaCloud: "api://AzureADTokenExchangeChina",
};

/** reference(resourceId('<type>', ...), '<api>').<property>, however the id is spelt. */
const referenceTo = (type: string, property: string): RegExp =>
  new RegExp(`^\\(*reference\\(resourceId\\('${type.replace(/[/.]/g, "\\$&")}', .*\\), '[0-9-]+'\\)\\.${property}\\)*$`);

/** Removes the outer parentheses the resolver puts around a followed value. */
const bare = (expression: string): string => {
  let out = expression;
  while (out.startsWith("(") && out.endsWith(")")) out = out.slice(1, -1);
  return out;
};

if (setup.kind !== "ready") {
  describeBicepUnavailable(setup);
} else {
  const cli = setup.cli;

  describe("the compiled templates: the Entra side of the deployment", () => {
    let main: ArmScope;
    let entra: ArmScope;
    let settings: ArmScope;
    let keyVault: ArmScope;
    let access: ArmTemplate;
    let mainText: string;

    const entraResource = (type: string) => {
      const found = resourcesOf(entra.template).find(([, r]) => r.type === type);
      if (!found) throw new Error(`no ${type} in app/entra.bicep`);
      return found[1];
    };
    const codeSetting = (name: string): string => {
      const codeSettings = settings.template.variables?.["codeSettings"] as Record<string, unknown> | undefined;
      return resolve(settings, codeSettings?.[name]);
    };

    beforeAll(async () => {
      prepareGraphExtension(cli, root);
      const [mainRun, accessRun] = await Promise.all([
        runBicep(cli, ["build", "infra/main.bicep", "--stdout"], root),
        runBicep(cli, ["build", "infra/access.bicep", "--stdout"], root),
      ]);
      if (mainRun.code !== 0 || accessRun.code !== 0)
        throw new Error(`bicep build failed: ${JSON.stringify([...mainRun.diagnostics, ...accessRun.diagnostics])}`);
      mainText = mainRun.stdout;
      main = { template: JSON.parse(mainRun.stdout) as ArmTemplate };
      access = JSON.parse(accessRun.stdout) as ArmTemplate;
      entra = moduleScope(main, "entra");
      settings = moduleScope(main, "api-settings");
      keyVault = moduleScope(main, "key-vault");
    });

    it("uses the Microsoft Graph extension by name and version, as the published reference does", () => {
      expect(entra.template.languageVersion).toBe("2.0");
      expect((entra.template as { imports?: unknown }).imports).toEqual({ microsoftGraphV1: { provider: "MicrosoftGraph", version: "1.0.0" } });
      expect(resourcesOf(entra.template).map(([symbol, r]) => `${symbol}: ${r.type}${r.existing ? " (existing)" : ""}`)).toEqual([
        "application: Microsoft.Graph/applications@v1.0",
        "managedIdentityCredential: Microsoft.Graph/applications/federatedIdentityCredentials@v1.0",
        "servicePrincipal: Microsoft.Graph/servicePrincipals@v1.0",
        "existingServicePrincipal: Microsoft.Graph/servicePrincipals@v1.0 (existing)",
      ]);
    });

    it("the registration is multi-tenant, named per environment, and its redirect URI is the deployed app's consent callback", () => {
      const app = entraResource("Microsoft.Graph/applications@v1.0").properties ?? {};
      expect(app["signInAudience"]).toBe("AzureADMultipleOrgs");
      expect(bare(resolve(entra, app["uniqueName"]))).toBe(
        "format('gallery-share-{0}-{1}', param('environmentName'), (toLower(uniqueString(subscription().id, param('environmentName'), param('location')))))",
      );
      const redirect = (app["web"] as { redirectUris?: unknown[] } | undefined)?.redirectUris ?? [];
      expect(redirect).toHaveLength(1);
      const uri = bare(resolve(entra, redirect[0]));
      expect(uri).toMatch(/^format\('https:\/\/\{0\}\/api\/consent\/callback', /);
      // The host name is that of the Function App app/api.bicep creates.
      const site = bare(resolve(moduleScope(main, "api"), "[parameters('name')]"));
      expect(uri).toBe(`format('https://{0}/api/consent/callback', (reference(resourceId('Microsoft.Web/sites', ((${site}))), '2025-03-01').defaultHostName))`);
      // The code builds the same address (src/activities/rbacAccess.ts).
      expect(readFileSync(path.join(root, "src/activities/rbacAccess.ts"), "utf8")).toContain(
        "redirectUri: `${config.consent.publicBaseUrl}/api/consent/callback`",
      );
      // Without a name given, the display name is gallery-share-<environment>.
      expect(bare(resolve(entra, "[parameters('displayName')]"))).toBe(
        "(if(not(empty(param('crossTenantAppDisplayName'))), createObject('value', param('crossTenantAppDisplayName')), createObject('value', format('gallery-share-{0}', param('environmentName'))))).value",
      );
    });

    it("the federated credential: subject = the app identity's principalId, the tenant's v2.0 issuer, the cloud's token-exchange audience", () => {
      const credential = entraResource("Microsoft.Graph/applications/federatedIdentityCredentials@v1.0").properties ?? {};
      expect(bare(resolve(entra, credential["subject"]))).toMatch(referenceTo("Microsoft.ManagedIdentity/userAssignedIdentities", "principalId"));
      // The identity is the one the Function App runs as.
      const api = moduleScope(main, "api");
      const identityOfSite = resolve(api, "[parameters('identityId')]");
      expect(bare(identityOfSite)).toMatch(/^resourceId\('Microsoft\.ManagedIdentity\/userAssignedIdentities', /);
      expect(bare(resolve(entra, credential["subject"]))).toContain(bare(identityOfSite).replace(/^resourceId/, "reference(resourceId"));

      expect(bare(resolve(entra, credential["issuer"]))).toBe("format('{0}{1}/v2.0', environment().authentication.loginEndpoint, tenant().tenantId)");
      const audiences = credential["audiences"] as unknown[];
      expect(audiences).toEqual(["[variables('tokenExchangeAudiences')[environment().name]]"]);
      expect(entra.template.variables?.["tokenExchangeAudiences"]).toEqual(AUDIENCES);
    });

    it("the service principal is the registration's; access.bicep's Reader for the app takes its id from main.bicep's output", () => {
      const sp = entraResource("Microsoft.Graph/servicePrincipals@v1.0").properties ?? {};
      expect(resolve(entra, sp["appId"])).toBe("resource('application', 'Microsoft.Graph/applications@v1.0').appId");
      expect(bare(resolve(main, main.template.outputs?.["CONSUMER_APP_PRINCIPAL_ID"]?.value))).toBe(
        "if(param('enableCrossTenantApp'), (if((empty((param('existingCrossTenantAppId')))), resource('servicePrincipal', 'Microsoft.Graph/servicePrincipals@v1.0').id, resource('existingServicePrincipal', 'Microsoft.Graph/servicePrincipals@v1.0').id)), '')",
      );
      // The postprovision hooks pass that output to access.bicep, which grants Reader on each gallery.
      expect(access.parameters?.["consumerAppPrincipalId"]).toBeDefined();
      for (const hook of ["postprovision.sh", "postprovision.ps1"]) {
        expect(readFileSync(path.join(root, "infra/hooks", hook), "utf8")).toMatch(/consumerAppPrincipalId="?\$(\{|env:)CONSUMER_APP_PRINCIPAL_ID/);
      }
    });

    it("the app settings take the registration's client id and display name (or the existing registration's), in the same deployment", () => {
      expect(codeSetting("CROSS_TENANT_APP_ID")).toBe(
        "(if(param('enableCrossTenantApp'), createObject('value', (if((empty((param('existingCrossTenantAppId')))), resource('application', 'Microsoft.Graph/applications@v1.0').appId, (param('existingCrossTenantAppId'))))), createObject('value', ''))).value",
      );
      expect(codeSetting("CROSS_TENANT_APP_NAME")).toBe(
        "(if(param('enableCrossTenantApp'), createObject('value', (if((empty((param('existingCrossTenantAppId')))), resource('application', 'Microsoft.Graph/applications@v1.0').displayName, resource('existingServicePrincipal', 'Microsoft.Graph/servicePrincipals@v1.0').displayName))), createObject('value', ''))).value",
      );
    });

    it("the consent-state key: drawn by ARM, written to the Key Vault only when absent, referenced by the app setting, passed nowhere else", () => {
      expect(main.template.parameters?.["consentStateKey"]).toMatchObject({
        type: "securestring",
        defaultValue: "[format('{0}{1}{2}', newGuid(), newGuid(), newGuid())]",
      });
      // Only the Key Vault module receives it, and only its secret uses it.
      const uses = (template: unknown, name: string) => strings(template).filter((entry) => entry.text.includes(`parameters('${name}')`));
      const keyVaultAt = `$.resources[${resourcesOf(main.template).findIndex(([, r]) => r.name === "key-vault")}].properties`;
      expect(uses(main.template, "consentStateKey").map((entry) => entry.path)).toEqual([
        `${keyVaultAt}.parameters.consentStateKey.value`,
        expect.stringMatching(new RegExp(`^${keyVaultAt.replace(/[$[\].]/g, "\\$&")}\\.template\\.resources\\[\\d+\\]\\.properties\\.value$`)),
      ]);
      expect(keyVault.template.parameters?.["consentStateKey"]?.type).toBe("securestring");
      const secret = resourcesOf(keyVault.template).find(([, r]) => r.type === "Microsoft.KeyVault/vaults/secrets")?.[1];
      expect(secret?.properties?.["value"]).toBe("[parameters('consentStateKey')]");
      expect(uses(keyVault.template, "consentStateKey")).toHaveLength(1);
      expect(bare(resolve(keyVault, secret?.condition))).toBe("not(param('consentStateKeyExists'))");
      expect(bare(resolve(keyVault, "[parameters('consentStateKeyName')]"))).toBe("'consent-state-key'");
      // The setting is a Key Vault reference to that secret in that vault.
      const vault = bare(resolve(keyVault, "[parameters('name')]"));
      expect(codeSetting("CONSENT_STATE_KEY")).toBe(
        `(if(param('enableCrossTenantApp'), createObject('value', format('@Microsoft.KeyVault(VaultName={0};SecretName={1})', ((${vault})), ('consent-state-key'))), createObject('value', ''))).value`,
      );
      // Nothing gives it a value: not main.parameters.json, not a hook.
      expect(readFileSync(path.join(root, "infra/main.parameters.json"), "utf8")).not.toContain('consentStateKey"');
    });

    it("operators sign in with their own registration: two app roles, assignment required, the deployer an Operator; Easy Auth guards the dashboard and the operator API only", () => {
      const signIn = moduleScope(main, "operator-signin");
      const resource = (type: string) => resourcesOf(signIn.template).find(([, r]) => r.type === type)?.[1]?.properties ?? {};
      const app = resource("Microsoft.Graph/applications@v1.0");
      expect(app["signInAudience"]).toBe("AzureADMyOrg");
      expect((app["appRoles"] as { value: string; allowedMemberTypes: string[] }[]).map((r) => [r.value, r.allowedMemberTypes])).toEqual([
        ["GalleryShare.Reader", ["User", "Application"]],
        ["GalleryShare.Operator", ["User", "Application"]],
      ]);
      const redirect = bare(resolve(signIn, (app["web"] as { redirectUris: unknown[] }).redirectUris[0]));
      expect(redirect).toMatch(/^format\('https:\/\/\{0\}\/\.auth\/login\/aad\/callback', .*defaultHostName/);
      expect(resource("Microsoft.Graph/servicePrincipals@v1.0")["appRoleAssignmentRequired"]).toBe(true);
      const grant = resource("Microsoft.Graph/appRoleAssignedTo@v1.0");
      expect(bare(resolve(signIn, grant["principalId"]))).toBe("deployer().objectId");
      expect(resolve(signIn, grant["appRoleId"])).toBe(resolve(signIn, "[variables('operatorRoleId')]"));
      expect(bare(resolve(signIn, "[variables('operatorRoleId')]"))).toMatch(/^guid\(.*'GalleryShare\.Operator'\)$/);

      expect(codeSetting("OPERATOR_SIGN_IN")).toBe("if((param('enableOperatorSignIn')), 'easyauth', 'off')");
      const auth = resourcesOf(settings.template).find(([, r]) => r.type === "Microsoft.Web/sites/config" && String(r.name).includes("authsettingsV2"))?.[1];
      expect(bare(resolve(settings, auth?.condition))).toBe("param('enableOperatorSignIn')");
      const validation = (auth?.properties?.["globalValidation"] ?? {}) as { requireAuthentication: boolean; excludedPaths: string[] };
      expect(validation.requireAuthentication).toBe(true);
      expect(validation.excludedPaths).toEqual(expect.arrayContaining(["/runtime/webhooks/*", "/api/consent/*", "/api/status/*"]));
      expect(validation.excludedPaths.filter((p) => p.startsWith("/api/ops") || p.startsWith("/api/dashboard") || p === "/*" || p === "/api/*")).toEqual([]);
      const aad = (auth?.properties?.["identityProviders"] as { azureActiveDirectory: { registration: { clientId: unknown } } }).azureActiveDirectory;
      expect(bare(resolve(settings, aad.registration.clientId))).toContain("resource('signIn', 'Microsoft.Graph/applications@v1.0').appId");
    });

    it("nothing holds a secret: no client secret or certificate, no secure value in an output, one secure parameter", () => {
      for (const template of [main.template, access]) {
        const text = JSON.stringify(template);
        for (const word of ["passwordCredentials", "keyCredentials", "clientSecret", "CLIENT_SECRET", "CERTIFICATE_PATH"]) expect(text).not.toContain(word);
      }
      // Every secure parameter of every template, nested ones included.
      const secure: string[] = [];
      const visit = (template: ArmTemplate, where: string): void => {
        for (const [name, declared] of Object.entries(template.parameters ?? {})) {
          if (/^secure/.test(declared.type ?? "")) secure.push(`${where}:${name}`);
        }
        for (const output of Object.values(template.outputs ?? {})) {
          for (const [name, declared] of Object.entries(template.parameters ?? {})) {
            if (/^secure/.test(declared.type ?? "")) expect(JSON.stringify(output.value ?? "")).not.toContain(`parameters('${name}')`);
          }
        }
        for (const [, resource] of resourcesOf(template)) {
          const nested = resource.properties?.["template"] as ArmTemplate | undefined;
          if (resource.type === "Microsoft.Resources/deployments" && nested) visit(nested, `${where}/${resource.name ?? "?"}`);
        }
      };
      visit(main.template, "main");
      visit(access, "access");
      expect(secure).toEqual(["main:consentStateKey", "main/key-vault:consentStateKey"]);
      expect(mainText).not.toMatch(/"outputs":\s*\{[^}]*consentStateKey/);
    });
  });
}
