// Reads a compiled ARM template (what `bicep build` writes) and follows a value to where it comes
// from: `parameters('x')` to what the parent deployment passes (or the default), `variables('x')` to
// the variable, a module's `reference(...deployments..., 'name').outputs.o.value` to that module's
// output, and in a symbolic-name template `reference('symbol')` to `resource('symbol', '<type@version>')`. The
// result is one expression in terms of resources, functions and top-level parameters
// (`param('x')`), which a test compares with what the wiring must be. Only the template's own text is
// read: nothing is evaluated, and a function this does not know stays as it is.

export interface ArmDeploymentResource {
  readonly type: string;
  readonly name?: string;
  readonly condition?: unknown;
  readonly properties?: Record<string, unknown>;
  readonly existing?: boolean;
}

export interface ArmTemplate {
  readonly languageVersion?: string;
  readonly parameters?: Record<string, { readonly type?: string; readonly defaultValue?: unknown }>;
  readonly variables?: Record<string, unknown>;
  /** An array (language version 1) or an object by symbolic name (language version 2). */
  readonly resources?: ArmDeploymentResource[] | Record<string, ArmDeploymentResource>;
  readonly outputs?: Record<string, { readonly type?: string; readonly value?: unknown }>;
}

/** A template and the deployment of its parent that runs it (none for the top level). */
export interface ArmScope {
  readonly template: ArmTemplate;
  readonly parent?: { readonly scope: ArmScope; readonly deployment: ArmDeploymentResource };
}

export function resourcesOf(template: ArmTemplate): Array<[string, ArmDeploymentResource]> {
  const resources = template.resources ?? [];
  return Array.isArray(resources) ? resources.map((r, i) => [String(i), r]) : Object.entries(resources);
}

/** The nested deployment (module) called `name` in a scope, as a scope of its own. */
export function moduleScope(scope: ArmScope, name: string): ArmScope {
  const deployment = resourcesOf(scope.template).find(([, r]) => r.type === "Microsoft.Resources/deployments" && r.name === name)?.[1];
  const template = deployment?.properties?.["template"] as ArmTemplate | undefined;
  if (!deployment || !template) throw new Error(`no module deployment '${name}'`);
  return { template, parent: { scope, deployment } };
}

/** The index just after the ')' that closes the '(' at `open`, skipping quoted strings. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      i++;
      while (i < text.length && !(text[i] === "'" && text[i + 1] !== "'")) i += text[i] === "'" ? 2 : 1;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced parentheses in ${text}`);
}

/** The single quoted-string argument of a call like `parameters('x')`. */
function onlyArgument(call: string): string | undefined {
  return /^\w+\('((?:[^']|'')*)'\)$/.exec(call)?.[1]?.replace(/''/g, "'");
}

/** A template value as expression text: "[expr]" → expr, any other string → 'literal', else JSON. */
function asExpression(value: unknown): string {
  if (typeof value === "string") {
    if (value.startsWith("[") && !value.startsWith("[[") && value.endsWith("]")) return value.slice(1, -1);
    return `'${value.replace(/'/g, "''")}'`;
  }
  return JSON.stringify(value);
}

const MAX_DEPTH = 40;

/** `value` (a template value) with every parameter, variable and module output followed. */
export function resolve(scope: ArmScope, value: unknown, depth = 0): string {
  return expand(scope, asExpression(value), depth);
}

function expand(scope: ArmScope, text: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new Error(`too deep: ${text}`);
  let out = "";
  let i = 0;
  const call = /\b(parameters|variables|reference)\(/g;
  for (let m = call.exec(text); m !== null; m = call.exec(text)) {
    const open = m.index + m[1]!.length;
    const end = closingParen(text, open);
    out += text.slice(i, m.index);
    const whole = text.slice(m.index, end);
    let next = end;
    if (m[1] === "parameters") out += parameter(scope, onlyArgument(whole), depth);
    else if (m[1] === "variables") out += variable(scope, onlyArgument(whole), depth);
    else {
      const followed = reference(scope, whole, text.slice(end), depth);
      out += followed.text;
      next = end + followed.consumed;
    }
    i = next;
    call.lastIndex = next;
  }
  return out + text.slice(i);
}

function parameter(scope: ArmScope, name: string | undefined, depth: number): string {
  if (name === undefined) return "parameters(?)";
  const parent = scope.parent;
  const passed = (parent?.deployment.properties?.["parameters"] as Record<string, unknown> | undefined)?.[name];
  if (parent && passed !== undefined) {
    // A parameter entry is { value: x }, or one expression that makes the whole entry.
    const inner = typeof passed === "object" && passed !== null && "value" in passed ? (passed as { value: unknown }).value : undefined;
    return inner !== undefined ? `(${resolve(parent.scope, inner, depth + 1)})` : `(${resolve(parent.scope, passed, depth + 1)}).value`;
  }
  const declared = scope.template.parameters?.[name];
  if (!parent && declared) return `param('${name}')`;
  if (declared?.defaultValue !== undefined) return `(${resolve(scope, declared.defaultValue, depth + 1)})`;
  return `param('${name}')`;
}

function variable(scope: ArmScope, name: string | undefined, depth: number): string {
  const value = name === undefined ? undefined : scope.template.variables?.[name];
  if (value === undefined) return `variables('${name ?? "?"}')`;
  return typeof value === "string" ? `(${resolve(scope, value, depth + 1)})` : JSON.stringify(value);
}

/** reference(...): a module's output (followed), a symbolic resource, or left as it is. */
function reference(scope: ArmScope, call: string, rest: string, depth: number): { text: string; consumed: number } {
  const symbol = onlyArgument(call);
  if (symbol !== undefined && !Array.isArray(scope.template.resources)) {
    const resource = (scope.template.resources ?? {})[symbol];
    if (resource) return { text: `resource('${symbol}', '${resource.type}')`, consumed: 0 };
  }
  const moduleName = /'Microsoft\.Resources\/deployments', '([^']+)'\)/.exec(call)?.[1];
  const output = /^\.outputs\.(\w+)\.value/.exec(rest);
  if (moduleName !== undefined && output) {
    const child = moduleScope(scope, moduleName);
    const value = child.template.outputs?.[output[1]!]?.value;
    if (value === undefined) throw new Error(`module '${moduleName}' has no output ${output[1]}`);
    return { text: `(${resolve(child, value, depth + 1)})`, consumed: output[0].length };
  }
  return { text: expand(scope, call.slice("reference".length), depth + 1).replace(/^/, "reference"), consumed: 0 };
}

/** Every string anywhere in a JSON value, with its path. */
export function strings(value: unknown, at = "$"): Array<{ path: string; text: string }> {
  if (typeof value === "string") return [{ path: at, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => strings(item, `${at}[${i}]`));
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([key, child]) => strings(child, `${at}.${key}`));
  return [];
}
