// Checks of what the Bicep compiler does not see (the hooks' commands, main.parameters.json), of
// module wiring (which test/infra/bicep.test.ts now also gets from the compiler) and of the
// conventions of this repository:
//   - module wiring: local module files exist, the params passed are declared, required params are
//     passed, referenced outputs exist; the same for main.parameters.json and the hooks' commands;
//   - role assignments: only in the RBAC modules, named guid(scope.id, principalId, roleId), no
//     Owner / Contributor / User Access Administrator anywhere;
//   - bindings: a setting's value comes from the resource it names (the queue Bicep creates is the
//     one ONBOARDING_QUEUE_NAME names, OUTCOME_TOPIC_ENDPOINT is the custom topic's endpoint, ...).
import { existsSync } from "node:fs";
import path from "node:path";
import type { Node } from "web-tree-sitter";
import { isRequiredParam, namedChildren, objectProperties, objectProperty, visit, where, type BicepFile, type FileDecls } from "./bicep";
import { flattenMember, type BicepModel, type HookDeployment } from "./model";
import type { BicepAppSetting } from "./settings";

function paramsObject(body: Node | undefined): Node | undefined {
  return body ? objectProperty(body, "params") : undefined;
}

export function checkModuleWiring(model: BicepModel): string[] {
  const problems: string[] = [];
  for (const decls of model.all()) {
    for (const module of decls.modules.values()) {
      const at = where(decls.file, module.node);
      if (!module.targetPath) continue;
      if (!existsSync(module.targetPath)) {
        problems.push(`${at}: module '${module.symbol}' points at ${module.source}, which does not exist`);
        continue;
      }
      const target = model.decls(module.targetPath);
      if (!target) {
        problems.push(`${at}: module '${module.symbol}' points at ${module.source}, which is outside the checked files`);
        continue;
      }
      const params = paramsObject(module.body);
      const passed = params && params.type === "object" ? objectProperties(params) : [];
      if (params && params.type !== "object") continue; // params from an expression: not checkable
      for (const prop of passed) {
        if (!target.params.has(prop.key)) {
          problems.push(`${where(decls.file, prop.keyNode)}: module '${module.symbol}' passes '${prop.key}', which ${target.file.rel} does not declare`);
        }
      }
      for (const [name, param] of target.params) {
        if (isRequiredParam(param) && !passed.some((prop) => prop.key === name)) {
          problems.push(`${at}: module '${module.symbol}' does not pass '${name}', which ${target.file.rel} requires`);
        }
      }
    }
    // mod.outputs.x, mod[i].outputs.x, mod!.outputs.x
    visit(decls.file.root, (node) => {
      if (node.type !== "member_expression") return;
      const parent = node.parent;
      if (parent?.type === "member_expression" && parent.childForFieldName("object")?.equals(node)) return; // handle the longest chain once
      const { base, props } = flattenMember(node);
      if (base.type !== "identifier" || props[0] !== "outputs" || !props[1]) return;
      const module = decls.modules.get(base.text);
      const target = module?.targetPath ? model.decls(module.targetPath) : undefined;
      if (module && target && !target.outputs.has(props[1])) {
        problems.push(`${where(decls.file, node)}: ${base.text}.outputs.${props[1]} does not exist in ${target.file.rel}`);
      }
    });
  }
  return problems;
}

/** The parameters file azd reads must match the template's parameters. */
export function checkParametersFile(template: FileDecls, parametersFile: string, parameterNames: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of parameterNames) {
    if (!template.params.has(name)) problems.push(`${parametersFile}: '${name}' is not a parameter of ${template.file.rel}`);
  }
  for (const [name, param] of template.params) {
    if (isRequiredParam(param) && !parameterNames.includes(name)) {
      problems.push(`${parametersFile}: ${template.file.rel} requires '${name}', which the parameters file does not give`);
    }
  }
  return problems;
}

/** Each hook command passes declared parameters only, and all required ones; each env value it uses is known. */
export function checkHookDeployments(model: BicepModel, deployments: readonly HookDeployment[], knownEnv: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const deployment of deployments) {
    const at = `${deployment.script}:${deployment.line}`;
    const target = model.decls(deployment.templatePath);
    if (!target) {
      problems.push(`${at}: deploys ${deployment.templatePath}, which is not a checked Bicep file`);
      continue;
    }
    for (const [name, value] of deployment.params) {
      if (!target.params.has(name)) problems.push(`${at}: passes '${name}', which ${target.file.rel} does not declare`);
      if (value.kind === "env" && !knownEnv.has(value.name)) {
        problems.push(`${at}: passes '${name}' from $${value.name}, which is neither an output of infra/main.bicep nor a documented azd environment value`);
      }
    }
    for (const [name, param] of target.params) {
      if (isRequiredParam(param) && !deployment.params.has(name) && !deployment.paramsFromFile.includes(name)) {
        problems.push(`${at}: does not pass '${name}', which ${target.file.rel} requires`);
      }
    }
  }
  return problems;
}

const FORBIDDEN_ROLES: ReadonlyArray<[string, string]> = [
  ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"],
  ["b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"],
  ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"],
];

/**
 * Role assignments live only in the given files and are named guid(scope.id, principalId, role),
 * with the same scope, principal and role the assignment's properties use.
 */
export function checkRoleAssignments(model: BicepModel, allowedFiles: readonly string[]): string[] {
  const problems: string[] = [];
  const allowed = new Set(allowedFiles.map((file) => path.resolve(file)));
  for (const decls of model.all()) {
    for (const [id, name] of FORBIDDEN_ROLES) {
      if (decls.file.text.toLowerCase().includes(id)) problems.push(`${decls.file.rel}: refers to the ${name} role (${id}); grant a narrower role`);
    }
    for (const resource of decls.resources.values()) {
      if (resource.type.toLowerCase() !== "microsoft.authorization/roleassignments" || resource.existing) continue;
      const at = where(decls.file, resource.node);
      if (!allowed.has(path.resolve(decls.file.path))) {
        problems.push(`${at}: role assignment '${resource.symbol}' outside the RBAC modules (${allowedFiles.map((f) => path.basename(f)).join(", ")})`);
      }
      const body = resource.body;
      const nameNode = objectProperty(body, "name");
      const scope = objectProperty(body, "scope");
      const properties = objectProperty(body, "properties");
      const principal = objectProperty(properties, "principalId");
      const role = objectProperty(properties, "roleDefinitionId");
      const args =
        nameNode?.type === "call_expression" && nameNode.childForFieldName("function")?.text === "guid"
          ? namedChildren(nameNode.childForFieldName("arguments") ?? nameNode)
          : [];
      if (args.length !== 3) {
        problems.push(`${at}: role assignment '${resource.symbol}' must be named guid(scope, principalId, roleDefinitionId)`);
        continue;
      }
      const [scopeArg, principalArg, roleArg] = args.map((arg) => arg.text.replace(/\s+/g, ""));
      if (!scope || scopeArg !== `${scope.text.replace(/\s+/g, "")}.id`) {
        problems.push(`${at}: '${resource.symbol}' is named with ${scopeArg ?? "?"} but its scope is ${scope?.text ?? "(none)"}`);
      }
      if (!principal || principalArg !== principal.text.replace(/\s+/g, "")) {
        problems.push(`${at}: '${resource.symbol}' is named with principal ${principalArg ?? "?"} but assigns ${principal?.text ?? "(none)"}`);
      }
      if (!role || !roleArg || !role.text.replace(/\s+/g, "").includes(roleArg)) {
        problems.push(`${at}: '${resource.symbol}' is named with role ${roleArg ?? "?"} but assigns ${role?.text ?? "(none)"}`);
      }
    }
  }
  return problems;
}

export interface Binding {
  /** The app setting. */
  readonly setting: string;
  /** The reference its value must derive from, e.g. resource:microsoft.servicebus/namespaces/queues#name. */
  readonly expect: string | RegExp;
  /** When several resources of that type exist: the declaration, as {file}#{symbol}. */
  readonly declaration?: string;
  readonly meaning: string;
}

/** What each resource-backed setting must be bound to. */
export const SETTING_BINDINGS: readonly Binding[] = [
  { setting: "ONBOARDING_QUEUE_NAME", expect: "resource:microsoft.servicebus/namespaces/queues#name", meaning: "the name of the queue the Bicep creates" },
  {
    setting: "ServiceBusConnection__fullyQualifiedNamespace",
    expect: /^resource:microsoft\.servicebus\/namespaces#/,
    meaning: "the host name of the namespace the Bicep creates",
  },
  {
    setting: "OUTCOME_TOPIC_ENDPOINT",
    expect: "resource:microsoft.eventgrid/topics#properties.endpoint",
    meaning: "the endpoint of the custom topic the Bicep creates",
  },
  {
    setting: "REGISTRY_TABLE_NAME",
    expect: "resource:microsoft.storage/storageaccounts/tableservices/tables#name",
    declaration: "infra/core/storage.bicep#registryTable",
    meaning: "the name of the registry table the Bicep creates",
  },
  {
    setting: "AUDIT_TABLE_NAME",
    expect: "resource:microsoft.storage/storageaccounts/tableservices/tables#name",
    declaration: "infra/core/storage.bicep#auditTable",
    meaning: "the name of the audit table the Bicep creates",
  },
  {
    setting: "AzureWebJobsStorage__accountName",
    expect: "resource:microsoft.storage/storageaccounts#name",
    meaning: "the name of the storage account the Bicep creates",
  },
  {
    setting: "CROSS_TENANT_APP_ID",
    expect: "resource:microsoft.graph/applications#appId",
    meaning: "the client id of the app registration the Bicep creates (infra/app/entra.bicep), or the existing one a parameter names",
  },
  {
    setting: "CROSS_TENANT_APP_NAME",
    expect: /^resource:microsoft\.graph\/(applications|serviceprincipals)#displayName$/,
    meaning: "the display name of that app registration (or of the existing one's service principal)",
  },
  {
    setting: "AZURE_CLIENT_ID",
    expect: "resource:microsoft.managedidentity/userassignedidentities#properties.clientId",
    meaning: "the client id of the app's user-assigned identity",
  },
];

function matches(expect: string | RegExp, ref: string): boolean {
  return typeof expect === "string" ? ref.toLowerCase() === expect.toLowerCase() : expect.test(ref);
}

/** Each bound setting is set, and every value it may take derives from the expected resource property and from no other resource. */
export function checkSettingBindings(model: BicepModel, settings: readonly BicepAppSetting[], bindings: readonly Binding[] = SETTING_BINDINGS): string[] {
  const problems: string[] = [];
  for (const binding of bindings) {
    const set = settings.filter((setting) => setting.name === binding.setting);
    if (set.length === 0) {
      problems.push(`${binding.setting} is not set by the Bicep app settings; it must be ${binding.meaning}`);
      continue;
    }
    for (const setting of set) {
      const refs = [...model.trace(setting.file, setting.value)];
      const resources = refs.filter((ref) => ref.startsWith("resource:"));
      const good = resources.filter((ref) => matches(binding.expect, ref));
      const other = resources.filter((ref) => !matches(binding.expect, ref));
      const wrongDeclaration = binding.declaration !== undefined && !refs.includes(`decl:${binding.declaration}`);
      if (good.length === 0 || other.length > 0 || wrongDeclaration) {
        problems.push(
          `${where(setting.file, setting.keyNode)}: ${binding.setting} must be ${binding.meaning}; its value derives from ${refs.length > 0 ? refs.join(", ") : "nothing the check can trace (a literal?)"}`,
        );
      }
    }
  }
  return problems;
}

/** The resource an RBAC `existing` reference resolves to must be the one the app is configured with. */
export function checkExistingReference(model: BicepModel, file: BicepFile, symbol: string, expect: string): string[] {
  const decls = model.decls(file);
  const resource = decls?.resources.get(symbol);
  if (!decls || !resource) return [`${file.rel}: no resource '${symbol}'`];
  const nameNode = objectProperty(resource.body, "name");
  if (!nameNode) return [`${where(file, resource.node)}: '${symbol}' has no name`];
  const refs = [...model.trace(file, nameNode)];
  const resources = refs.filter((ref) => ref.startsWith("resource:"));
  if (resources.length === 0 || resources.some((ref) => ref.toLowerCase() !== expect.toLowerCase())) {
    return [`${where(file, nameNode)}: '${symbol}' must name ${expect}; its name derives from ${refs.join(", ") || "nothing traceable"}`];
  }
  return [];
}
