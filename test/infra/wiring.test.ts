// What a Bicep compiler and a reviewer would check, made executable: module and hook wiring, role
// assignment conventions, settings bound to the resources they name (the queue Bicep creates is the
// one ONBOARDING_QUEUE_NAME names, OUTCOME_TOPIC_ENDPOINT is the custom topic's endpoint), azd
// conventions and the deploy guide's coverage.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadBicepFiles, objectProperty, propertyPath, repoRoot, valueAfterEquals } from "./support/bicep";
import { parseHookDeployments } from "./support/hooks";
import { BicepModel } from "./support/model";
import { AZD_BUILTIN_ENV, HOOK_ENV, OPERATOR_ENV, loadRepoInfra, type RepoInfra } from "./support/repo";
import { extractAppSettings } from "./support/settings";
import {
  SETTING_BINDINGS,
  checkExistingReference,
  checkHookDeployments,
  checkModuleWiring,
  checkParametersFile,
  checkRoleAssignments,
  checkSettingBindings,
} from "./support/wiring";

const root = repoRoot();
const rbacFiles = [path.join(root, "infra/app/rbac.bicep"), path.join(root, "infra/app/gallery-rbac.bicep")];

let infra: RepoInfra;
let knownEnv: Set<string>;

function fileOf(rel: string) {
  const file = infra.files.find((candidate) => candidate.rel === rel);
  if (!file) throw new Error(`${rel} not loaded`);
  return file;
}

beforeAll(async () => {
  infra = await loadRepoInfra(root);
  const main = infra.model.decls(infra.mainPath);
  knownEnv = new Set([...(main ? main.outputs.keys() : []), ...AZD_BUILTIN_ENV, ...OPERATOR_ENV]);
});

describe("module and hook wiring", () => {
  it("every local module exists, gets only declared params and all required ones, and exposes the outputs used", () => {
    expect(checkModuleWiring(infra.model)).toEqual([]);
  });

  it("main.parameters.json gives main.bicep's required parameters and nothing else", () => {
    const parameters: unknown = JSON.parse(readFileSync(path.join(root, "infra/main.parameters.json"), "utf8"));
    const names =
      typeof parameters === "object" &&
      parameters !== null &&
      "parameters" in parameters &&
      typeof parameters.parameters === "object" &&
      parameters.parameters !== null
        ? Object.keys(parameters.parameters)
        : [];
    const main = infra.model.decls(infra.mainPath);
    expect(main).toBeDefined();
    if (main) expect(checkParametersFile(main, "infra/main.parameters.json", names)).toEqual([]);
  });

  it("main.parameters.json takes only values an operator or a hook sets, never an output of main.bicep (an output would feed back into the next provision)", () => {
    const file = JSON.parse(readFileSync(path.join(root, "infra/main.parameters.json"), "utf8")) as { parameters: Record<string, { value: unknown }> };
    const outputs = infra.model.decls(infra.mainPath)?.outputs ?? new Map<string, never>();
    const allowed = new Set<string>([...AZD_BUILTIN_ENV, ...OPERATOR_ENV, ...HOOK_ENV]);
    const problems: string[] = [];
    for (const [param, { value }] of Object.entries(file.parameters)) {
      for (const [, name = ""] of String(value).matchAll(/\$\{([A-Z0-9_]+)(?:=[^}]*)?\}/g)) {
        if (!allowed.has(name)) problems.push(`${param} takes \${${name}}, which no operator or hook sets`);
        const output = outputs.get(name);
        // An output that returns the parameter itself (AZURE_LOCATION = location) feeds back the same value.
        if (output && valueAfterEquals(output)?.text !== param) problems.push(`${param} takes \${${name}}, which main.bicep's output ${name} overwrites`);
      }
    }
    expect(problems).toEqual([]);
    // Each hook value is really set by a hook, in both shells.
    for (const name of HOOK_ENV) {
      const setters = infra.hookScripts.filter((script) => new RegExp(`azd env set ${name} `).test(script.text)).map((script) => script.file);
      expect(setters.sort(), name).toEqual(["infra/hooks/preprovision.ps1", "infra/hooks/preprovision.sh"]);
    }
  });

  it("the hooks deploy access.bicep and event-subscription.bicep with declared, complete parameters from known azd values", () => {
    expect(infra.deployments.map((d) => `${d.script} -> ${path.relative(root, d.templatePath)}`).sort()).toEqual([
      "infra/hooks/postdeploy.ps1 -> infra/app/event-subscription.bicep",
      "infra/hooks/postdeploy.sh -> infra/app/event-subscription.bicep",
      "infra/hooks/postprovision.ps1 -> infra/access.bicep",
      "infra/hooks/postprovision.sh -> infra/access.bicep",
    ]);
    const scriptVariables = (name: string) => /^[a-z]/.test(name);
    const envOf = new Set([
      ...knownEnv,
      ...infra.deployments.flatMap((d) => [...d.params.values()].flatMap((v) => (v.kind === "env" && scriptVariables(v.name) ? [v.name] : []))),
    ]);
    expect(checkHookDeployments(infra.model, infra.deployments, envOf)).toEqual([]);
  });

  it("the sh and PowerShell twins pass the same parameters", () => {
    const byTemplate = new Map<string, string[][]>();
    for (const deployment of infra.deployments) {
      const list = byTemplate.get(deployment.templatePath) ?? [];
      list.push([...deployment.params.keys(), ...deployment.paramsFromFile].sort());
      byTemplate.set(deployment.templatePath, list);
    }
    for (const lists of byTemplate.values()) expect(lists[0]).toEqual(lists[1]);
  });

  it("fails on the wiring fixture, naming each mistake", async () => {
    const files = await loadBicepFiles(path.join(root, "test/infra/fixtures/wiring"));
    expect(checkModuleWiring(new BicepModel(files))).toEqual([
      expect.stringMatching(
        /^test\/infra\/fixtures\/wiring\/main\.bicep:9:5: module 'child' passes 'colour', which test\/infra\/fixtures\/wiring\/child\.bicep does not declare$/,
      ),
      expect.stringMatching(
        /^test\/infra\/fixtures\/wiring\/main\.bicep:5:1: module 'child' does not pass 'location', which test\/infra\/fixtures\/wiring\/child\.bicep requires$/,
      ),
      expect.stringMatching(/^test\/infra\/fixtures\/wiring\/main\.bicep:13:1: module 'absent' points at absent\.bicep, which does not exist$/),
      expect.stringMatching(
        /^test\/infra\/fixtures\/wiring\/main\.bicep:18:29: child\.outputs\.colour does not exist in test\/infra\/fixtures\/wiring\/child\.bicep$/,
      ),
    ]);
  });

  it("fails on a hook command that passes an unknown parameter or misses a required one", async () => {
    const files = await loadBicepFiles(path.join(root, "test/infra/fixtures/wiring"));
    const script = [
      "az deployment group create \\",
      "  --resource-group rg \\",
      "  --template-file test/infra/fixtures/wiring/child.bicep \\",
      '  --parameters name="$AZURE_ENV_NAME" size="$UNDOCUMENTED_VALUE" \\',
      "  --output none",
    ].join("\n");
    const deployments = parseHookDeployments("infra/hooks/fixture.sh", script, root);
    expect(checkHookDeployments(new BicepModel(files, deployments), deployments, knownEnv)).toEqual([
      "infra/hooks/fixture.sh:1: passes 'size', which test/infra/fixtures/wiring/child.bicep does not declare",
      "infra/hooks/fixture.sh:1: passes 'size' from $UNDOCUMENTED_VALUE, which is neither an output of infra/main.bicep nor a documented azd environment value",
      "infra/hooks/fixture.sh:1: does not pass 'location', which test/infra/fixtures/wiring/child.bicep requires",
    ]);
  });
});

describe("role assignments", () => {
  it("live in app/rbac.bicep and app/gallery-rbac.bicep only, each named guid(scope, principalId, roleDefinitionId)", () => {
    expect(checkRoleAssignments(infra.model, rbacFiles)).toEqual([]);
  });

  it("grant the gallery roles at gallery scope from a module rbac.bicep calls at each gallery's resource group", () => {
    const rbac = infra.model.decls(fileOf("infra/app/rbac.bicep"));
    const module = rbac?.modules.get("galleryAccess");
    expect(module?.source).toBe("gallery-rbac.bicep");
    expect(objectProperty(module?.body, "scope")?.text).toBe("resourceGroup(split(galleryId, '/')[2], split(galleryId, '/')[4])");
    const gallery = infra.model.decls(fileOf("infra/app/gallery-rbac.bicep"));
    const assignments = [...(gallery?.resources.values() ?? [])].filter((r) => r.type === "Microsoft.Authorization/roleAssignments");
    expect(assignments.map((r) => objectProperty(r.body, "scope")?.text)).toEqual(["gallery", "gallery", "gallery", "gallery", "gallery"]);
    // The one custom role is assignable at the gallery only.
    const definitions = [...(gallery?.resources.values() ?? [])].filter((r) => r.type === "Microsoft.Authorization/roleDefinitions");
    expect(definitions.map((r) => propertyPath(r.body, ["properties", "assignableScopes"])?.text.replace(/\s+/g, " "))).toEqual(["[ gallery.id ]"]);
    const text = fileOf("infra/app/gallery-rbac.bicep").text;
    expect(text).toContain("1ef6a3be-d0ac-425d-8c01-acb62866290b"); // Compute Gallery Sharing Admin
    expect(text).toContain("acdd72a7-3385-48ef-bd42-f606fba81ae7"); // Reader
  });

  it("fails on the roles fixture: outside the RBAC modules, named without the role or after another scope, Owner", async () => {
    const files = await loadBicepFiles(path.join(root, "test/infra/fixtures/roles"));
    const problems = checkRoleAssignments(new BicepModel(files), rbacFiles);
    expect(problems).toEqual([
      "test/infra/fixtures/roles/main.bicep: refers to the Owner role (8e3af657-a8ff-443c-a75c-2fe8c4bcb635); grant a narrower role",
      expect.stringMatching(/main\.bicep:15:1: role assignment 'twoArgs' outside the RBAC modules/),
      expect.stringMatching(/main\.bicep:15:1: role assignment 'twoArgs' must be named guid\(scope, principalId, roleDefinitionId\)/),
      expect.stringMatching(/main\.bicep:24:1: role assignment 'wrongScope' outside the RBAC modules/),
      expect.stringMatching(/main\.bicep:24:1: 'wrongScope' is named with topic\.id but its scope is storage/),
      expect.stringMatching(/main\.bicep:33:1: role assignment 'owner' outside the RBAC modules/),
    ]);
  });
});

describe("settings bound to the resources they name", () => {
  it("ONBOARDING_QUEUE_NAME is the queue Bicep creates, OUTCOME_TOPIC_ENDPOINT the custom topic's endpoint, and so on", () => {
    const settings = extractAppSettings(infra.model).settings;
    expect(SETTING_BINDINGS.map((binding) => binding.setting)).toEqual(expect.arrayContaining(["ONBOARDING_QUEUE_NAME", "OUTCOME_TOPIC_ENDPOINT"]));
    expect(checkSettingBindings(infra.model, settings)).toEqual([]);
  });

  it("the queue, topic, storage and telemetry the app is granted roles on are the ones it is configured with (through the postprovision hook)", () => {
    const rbac = fileOf("infra/app/rbac.bicep");
    expect([
      ...checkExistingReference(infra.model, rbac, "onboardingQueue", "resource:microsoft.servicebus/namespaces/queues#name"),
      ...checkExistingReference(infra.model, rbac, "serviceBus", "resource:microsoft.servicebus/namespaces#name"),
      ...checkExistingReference(infra.model, rbac, "outcomeTopic", "resource:microsoft.eventgrid/topics#name"),
      ...checkExistingReference(infra.model, rbac, "storage", "resource:microsoft.storage/storageaccounts#name"),
      ...checkExistingReference(infra.model, rbac, "deadLetterContainer", "resource:microsoft.storage/storageaccounts/blobservices/containers#name"),
      ...checkExistingReference(infra.model, rbac, "applicationInsights", "resource:microsoft.insights/components#name"),
    ]).toEqual([]);
  });

  it("the Flex deployment package container and the dead-letter container are the ones storage.bicep creates", () => {
    const api = fileOf("infra/app/api.bicep");
    const site = infra.model.decls(api)?.resources.get("functionApp");
    const value = propertyPath(site?.body, ["properties", "functionAppConfig", "deployment", "storage", "value"]);
    expect(value).toBeDefined();
    if (value) {
      const refs = [...infra.model.trace(api, value)];
      expect(refs).toContain("resource:microsoft.storage/storageaccounts#properties.primaryEndpoints.blob");
      expect(refs).toContain("decl:infra/core/storage.bicep#deploymentContainer");
    }
  });

  it("fails on the bindings fixture: a literal that merely equals the queue's name, and another resource's endpoint", async () => {
    const files = await loadBicepFiles(path.join(root, "test/infra/fixtures/bindings"));
    const model = new BicepModel(files);
    const bindings = SETTING_BINDINGS.filter((b) =>
      ["ONBOARDING_QUEUE_NAME", "OUTCOME_TOPIC_ENDPOINT", "ServiceBusConnection__fullyQualifiedNamespace"].includes(b.setting),
    );
    expect(checkSettingBindings(model, extractAppSettings(model).settings, bindings)).toEqual([
      expect.stringMatching(
        /^test\/infra\/fixtures\/bindings\/main\.bicep:\d+:7: ONBOARDING_QUEUE_NAME must be the name of the queue the Bicep creates; its value derives from nothing the check can trace/,
      ),
      expect.stringMatching(
        /^test\/infra\/fixtures\/bindings\/main\.bicep:\d+:7: OUTCOME_TOPIC_ENDPOINT must be the endpoint of the custom topic the Bicep creates; its value derives from resource:microsoft\.storage\/storageaccounts#properties\.primaryEndpoints\.blob/,
      ),
    ]);
  });
});

describe("azd conventions and the deploy guide", () => {
  it("azure.yaml names the project, the api service and every hook script, which exist", () => {
    const yaml = readFileSync(path.join(root, "azure.yaml"), "utf8");
    expect(yaml).toMatch(/^name: gallery-share$/m);
    expect(yaml).toMatch(/^services:\n {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function$/m);
    const scripts = [...yaml.matchAll(/run: \.\/(\S+)/g)].map((match) => match[1] ?? "");
    expect(scripts.sort()).toEqual([
      "infra/hooks/postdeploy.ps1",
      "infra/hooks/postdeploy.sh",
      "infra/hooks/postprovision.ps1",
      "infra/hooks/postprovision.sh",
      "infra/hooks/predown.ps1",
      "infra/hooks/predown.sh",
      "infra/hooks/preprovision.ps1",
      "infra/hooks/preprovision.sh",
    ]);
    for (const script of scripts) expect(infra.hookScripts.map((s) => s.file)).toContain(script);
  });

  it("main.bicep targets the subscription, loads abbreviations.json and tags the api service for azd", () => {
    const main = fileOf("infra/main.bicep").text;
    expect(main).toMatch(/^targetScope = 'subscription'$/m);
    expect(main).toContain("loadJsonContent('./abbreviations.json')");
    expect(fileOf("infra/app/api.bicep").text).toContain("'azd-service-name': 'api'");
  });

  it("main.bicep creates nothing outside the app's resource group (azd down deletes every resource group its deployment touched)", () => {
    const main = infra.model.decls(infra.mainPath);
    for (const module of main?.modules.values() ?? []) expect(objectProperty(module.body, "scope")?.text).toBe("rg");
    expect([...(main?.resources.values() ?? [])].map((r) => r.type)).toEqual(["Microsoft.Resources/resourceGroups"]);
  });

  it("docs/deploy.md documents every azd value an operator sets and every manual command family, and no manual Entra step on the normal path", () => {
    const guide = readFileSync(path.join(root, "docs/deploy.md"), "utf8");
    for (const name of OPERATOR_ENV) expect(guide, name).toContain(name);
    // The normal path creates the Entra objects in the deployment: no manual step for them.
    const normalPath = guide.slice(0, guide.indexOf('<a id="using-an-existing-app-registration">'));
    expect(normalPath.length).toBeGreaterThan(1000);
    for (const manual of ["az ad app create", "az ad sp create", "federated-credential create"]) {
      expect(normalPath, manual).not.toContain(manual);
    }
    expect(guide).not.toContain("az ad app create");
    for (const command of ["azd up", "azd down --purge", "az role assignment create", "adminconsent", "api://AzureADTokenExchange", "azd env set"]) {
      expect(guide, command).toContain(command);
    }
  });
});
