// App settings: every setting src/settings.ts reads is set by the Bicep and present in
// local.settings.sample.json, neither has settings the code does not read, and the documented
// exceptions hold. Fixtures prove the check fails when a setting is added to the code only.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { HOST_SETTINGS, RESERVED_SETTINGS, SETTINGS } from "../../src/settings";
import { loadBicepFiles, parseBicepText, repoRoot } from "./support/bicep";
import { BicepModel } from "./support/model";
import { loadRepoInfra, type RepoInfra } from "./support/repo";
import {
  AZURE_SETTING_EXCEPTIONS,
  checkNoKeysInSettings,
  checkSettingsConsistency,
  extractAppSettings,
  provides,
  readSampleSettingNames,
  type SettingsConsistencyInput,
} from "./support/settings";

const root = repoRoot();
const codeSettings = SETTINGS.map((setting) => setting.name);
const hostSettings = HOST_SETTINGS.map((setting) => setting.name);
const reservedSettings = RESERVED_SETTINGS.map((setting) => setting.name);

let infra: RepoInfra;
let real: SettingsConsistencyInput;

beforeAll(async () => {
  infra = await loadRepoInfra(root);
  const extraction = extractAppSettings(infra.model);
  real = {
    codeSettings,
    hostSettings,
    reservedSettings,
    bicepSettings: extraction.settings.map((setting) => setting.name),
    sampleSettings: readSampleSettingNames(path.join(root, "local.settings.sample.json")),
    runtimeName: extraction.functionApps[0]?.runtimeName,
  };
});

describe("app settings of the real tree", () => {
  it("reads the Function App's settings from the Bicep without guessing", () => {
    const extraction = extractAppSettings(infra.model);
    expect(extraction.problems).toEqual([]);
    expect(extraction.functionApps.map((app) => app.file.rel)).toEqual(["infra/app/api.bicep"]);
    // The settings are set in one place, after the app registration (infra/main.bicep says why).
    expect(extraction.settings.length).toBeGreaterThan(codeSettings.length);
    expect(extraction.settings.every((setting) => setting.file.rel === "infra/app/api-settings.bicep")).toBe(true);
  });

  it("runs Node.js 22 on Flex Consumption", () => {
    const [app] = extractAppSettings(infra.model).functionApps;
    expect(app?.runtimeName).toBe("node");
    expect(app?.runtimeVersion).toBe("22");
  });

  it("agrees with src/settings.ts and local.settings.sample.json", () => {
    expect(checkSettingsConsistency(real)).toEqual([]);
  });

  it("sets each setting once, outside conditions except the Durable Task Scheduler switch", () => {
    const settings = extractAppSettings(infra.model).settings;
    const names = settings.map((setting) => setting.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    const conditional = settings.filter((setting) => setting.conditional).map((setting) => setting.name);
    expect(conditional.every((name) => name.startsWith("AzureFunctionsJobHost__") || name === "DURABLE_TASK_SCHEDULER_CONNECTION_STRING")).toBe(true);
  });

  it("uses identity-based connections only: no key or shared secret in any setting", () => {
    const settings = extractAppSettings(infra.model).settings;
    expect(checkNoKeysInSettings(settings)).toEqual([]);
    expect(settings.map((setting) => setting.name)).toEqual(
      expect.arrayContaining(["AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "ServiceBusConnection__credential"]),
    );
    expect(settings.map((setting) => setting.name)).not.toContain("AzureWebJobsStorage");
  });
});

describe("checkSettingsConsistency on fixtures", () => {
  it("fails when a setting is added to the code without infra (and without the sample)", () => {
    const problems = checkSettingsConsistency({ ...real, codeSettings: [...real.codeSettings, "NEW_FEATURE_TIMEOUT_SECONDS"] });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^NEW_FEATURE_TIMEOUT_SECONDS is in src\/settings\.ts SETTINGS but the Bicep app settings .* do not set it/);
    expect(problems[1]).toMatch(/^NEW_FEATURE_TIMEOUT_SECONDS is in src\/settings\.ts SETTINGS but missing from local\.settings\.sample\.json/);
  });

  it("fails when a reserved or host setting is not set by the Bicep", () => {
    const problems = checkSettingsConsistency({
      ...real,
      reservedSettings: [...real.reservedSettings, "SOME_RESERVED_NAME"],
      hostSettings: [...real.hostSettings, "HOST_ONLY"],
    });
    expect(problems.some((p) => p.startsWith("SOME_RESERVED_NAME is in src/settings.ts RESERVED_SETTINGS but the Bicep"))).toBe(true);
    expect(problems.some((p) => p.startsWith("HOST_ONLY is in src/settings.ts HOST_SETTINGS but the Bicep"))).toBe(true);
    // Reserved settings need not be in the sample; host settings must.
    expect(problems.some((p) => p.startsWith("SOME_RESERVED_NAME") && p.includes("sample"))).toBe(false);
    expect(problems.some((p) => p.startsWith("HOST_ONLY") && p.includes("sample"))).toBe(true);
  });

  it("fails on settings the code does not read, in the Bicep or in the sample", () => {
    const problems = checkSettingsConsistency({
      ...real,
      bicepSettings: [...real.bicepSettings, "LEFTOVER_SETTING", "Unknown__accountName"],
      sampleSettings: [...real.sampleSettings, "OLD_SAMPLE_SETTING"],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^LEFTOVER_SETTING is set by the Bicep app settings .* but the code does not read it/),
      expect.stringMatching(/^Unknown__accountName is set by the Bicep app settings .* but the code does not read it/),
      expect.stringMatching(/^OLD_SAMPLE_SETTING is in local\.settings\.sample\.json but the code does not read it/),
    ]);
  });

  it("treats X__suffix as providing X and allows the documented platform settings", () => {
    expect(provides(new Set(["AzureWebJobsStorage__accountName"]), "AzureWebJobsStorage")).toBe(true);
    expect(provides(new Set(["AzureWebJobsStorageX"]), "AzureWebJobsStorage")).toBe(false);
    expect(provides(new Set(["ServiceBusConnection__credential"]), "ServiceBusConnection__fullyQualifiedNamespace")).toBe(false);
    const problems = checkSettingsConsistency({
      ...real,
      bicepSettings: [
        ...real.bicepSettings,
        "APPLICATIONINSIGHTS_SAMPLING",
        "AzureFunctionsJobHost__logging__logLevel__default",
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
        "ServiceBusConnection__tenantId",
      ],
    });
    expect(problems).toEqual([]);
  });

  it("keeps the documented exceptions: no client secret in Azure, the runtime comes from functionAppConfig", () => {
    expect(AZURE_SETTING_EXCEPTIONS.map((exception) => exception.name)).toEqual([
      "AZURE_CLIENT_SECRET",
      "CROSS_TENANT_CLIENT_SECRET",
      "CROSS_TENANT_CERTIFICATE_PATH",
      "FUNCTIONS_WORKER_RUNTIME",
    ]);
    const withSecret = checkSettingsConsistency({ ...real, bicepSettings: [...real.bicepSettings, "AZURE_CLIENT_SECRET", "FUNCTIONS_WORKER_RUNTIME"] });
    expect(withSecret).toEqual([
      expect.stringMatching(/^AZURE_CLIENT_SECRET must not be set by the Bicep app settings .*: local development only/),
      expect.stringMatching(/^FUNCTIONS_WORKER_RUNTIME must not be set by the Bicep app settings .*: the Flex Consumption plan/),
    ]);
    expect(checkSettingsConsistency({ ...real, runtimeName: "python" })).toEqual([
      "functionAppConfig.runtime.name is 'python', but this is a Node.js app ('node')",
    ]);
    expect(checkSettingsConsistency({ ...real, runtimeName: undefined })).toEqual([expect.stringMatching(/no Function App in the Bicep sets it/)]);
  });

  it("extracts names through module parameters, union() and conditions (fixture), and the check names what is missing", async () => {
    const files = await loadBicepFiles(path.join(root, "test/infra/fixtures/settings"));
    const extraction = extractAppSettings(new BicepModel(files));
    expect(extraction.problems).toEqual([]);
    expect(extraction.settings.map((setting) => `${setting.name}${setting.conditional ? "?" : ""}`)).toEqual([
      "AzureWebJobsStorage__accountName",
      "AzureWebJobsStorage__credential",
      "GALLERY_IDS",
      "AZURE_TENANT_ID",
      "NOT_READ_BY_CODE",
      "DURABLE_TASK_SCHEDULER_CONNECTION_STRING?",
    ]);
    expect(extraction.functionApps.map((app) => [app.runtimeName, app.runtimeVersion])).toEqual([["node", "22"]]);
    const problems = checkSettingsConsistency({ ...real, bicepSettings: extraction.settings.map((setting) => setting.name), runtimeName: "node" });
    expect(problems).toContainEqual(
      expect.stringMatching(/^OUTCOME_TOPIC_ENDPOINT is in src\/settings\.ts SETTINGS but the Bicep app settings .* do not set it/),
    );
    expect(problems).toContainEqual(expect.stringMatching(/^NOT_READ_BY_CODE is set by the Bicep app settings/));
    expect(problems.some((p) => p.startsWith("AzureWebJobsStorage "))).toBe(false);
  });

  it("reports app settings it cannot read instead of guessing, and settings that carry keys", async () => {
    const text = [
      "resource site 'Microsoft.Web/sites@2024-04-01' = {",
      "  name: 'func-fixture'",
      "  properties: {",
      "    siteConfig: {",
      "      appSettings: [",
      "        {",
      "          name: 'AzureWebJobsStorage'",
      "          value: 'DefaultEndpointsProtocol=https;AccountName=st;AccountKey=${st.listKeys().keys[0].value}'",
      "        }",
      "      ]",
      "    }",
      "  }",
      "}",
      "resource config 'Microsoft.Web/sites/config@2024-04-01' = {",
      "  parent: site",
      "  name: 'appsettings'",
      "  properties: loadJsonContent('settings.json')",
      "}",
      "",
    ].join("\n");
    const file = await parseBicepText(text, path.join(root, "test/infra/fixtures/unreadable.bicep"));
    const extraction = extractAppSettings(new BicepModel([file]));
    expect(extraction.settings.map((setting) => setting.name)).toEqual(["AzureWebJobsStorage"]);
    expect(extraction.problems).toEqual([
      expect.stringMatching(/^test\/infra\/fixtures\/unreadable\.bicep:17:15: cannot read app setting names from "loadJsonContent/),
    ]);
    expect(checkNoKeysInSettings(extraction.settings)).toEqual([
      expect.stringMatching(/^test\/infra\/fixtures\/unreadable\.bicep:7:17: AzureWebJobsStorage carries a key or shared secret/),
    ]);
  });
});
