// A model over all Bicep files of infra/: declarations per file, who calls which module, and a
// tracer that follows a value through variables, parameters (to every caller, including the azd
// hooks that deploy a template with values from azd's environment), module outputs and resource
// properties, to the resources it comes from.
import path from "node:path";
import type { Node } from "web-tree-sitter";
import { declarations, namedChildren, objectProperty, stringLiteral, valueAfterEquals, type BicepFile, type FileDecls, type ModuleDecl } from "./bicep";

/** A value a hook passes to a template parameter: an environment variable, or a literal. */
export type HookValue = { readonly kind: "env"; readonly name: string } | { readonly kind: "literal"; readonly value: string };

/** One `az deployment ... create --template-file X --parameters ...` command in a hook script. */
export interface HookDeployment {
  /** The script, relative to the repository root. */
  readonly script: string;
  readonly line: number;
  /** Absolute path of the template the command deploys. */
  readonly templatePath: string;
  readonly params: ReadonlyMap<string, HookValue>;
  /** Parameter names that come from a parameters file the script writes (values not visible). */
  readonly paramsFromFile: readonly string[];
}

export interface Caller {
  readonly caller: FileDecls;
  readonly module: ModuleDecl;
}

/**
 * What a traced value derives from:
 *   resource:{lower-case type}#{property path}   a resource's property ("" for the resource itself)
 *   decl:{file}#{symbol}                         the declaration of that resource
 *   fn:{name}                                    a function such as environment() or tenant()
 *   input:{file}#{param}                         a top-level parameter nobody in infra/ passes
 *   env:{NAME}                                   an azd environment value a hook passes that is not an output of the azd template
 */
export type TraceRefs = Set<string>;

export class BicepModel {
  private readonly byPath = new Map<string, FileDecls>();
  private readonly callerIndex = new Map<string, Caller[]>();

  constructor(
    readonly files: readonly BicepFile[],
    readonly hookDeployments: readonly HookDeployment[] = [],
    /** Absolute path of the template azd deploys (its outputs become azd environment values). */
    readonly azdTemplatePath?: string,
  ) {
    for (const file of files) this.byPath.set(path.resolve(file.path), declarations(file));
    for (const decls of this.byPath.values()) {
      for (const module of decls.modules.values()) {
        if (!module.targetPath) continue;
        const list = this.callerIndex.get(module.targetPath) ?? [];
        list.push({ caller: decls, module });
        this.callerIndex.set(module.targetPath, list);
      }
    }
  }

  all(): FileDecls[] {
    return [...this.byPath.values()];
  }

  decls(file: BicepFile | string): FileDecls | undefined {
    return this.byPath.get(path.resolve(typeof file === "string" ? file : file.path));
  }

  /** The module declarations (in any file) that deploy this file. */
  callers(file: BicepFile): Caller[] {
    return this.callerIndex.get(path.resolve(file.path)) ?? [];
  }

  /** The hook commands that deploy this file. */
  hookCallers(file: BicepFile): HookDeployment[] {
    return this.hookDeployments.filter((deployment) => path.resolve(deployment.templatePath) === path.resolve(file.path));
  }

  /** Everything a value derives from; see TraceRefs. */
  trace(file: BicepFile, node: Node, seen: Set<string> = new Set()): TraceRefs {
    const refs: TraceRefs = new Set();
    this.traceInto(this.mustDecls(file), node, refs, seen);
    return refs;
  }

  private mustDecls(file: BicepFile): FileDecls {
    const decls = this.decls(file);
    if (!decls) throw new Error(`${file.rel} is not part of the model`);
    return decls;
  }

  private traceInto(decls: FileDecls, node: Node, refs: TraceRefs, seen: Set<string>): void {
    const key = `${decls.file.path}:${node.startIndex}:${node.endIndex}:${node.type}`;
    if (seen.has(key)) return;
    seen.add(key);
    switch (node.type) {
      case "identifier":
        this.traceSymbol(decls, node.text, [], refs, seen);
        return;
      case "member_expression":
      case "resource_expression": {
        const { base, props } = flattenMember(node);
        if (base.type === "identifier") {
          this.traceSymbol(decls, base.text, props, refs, seen);
        } else if (base.type === "resource_expression") {
          const last = namedChildren(base).at(-1);
          if (last) this.traceSymbol(decls, last.text, props, refs, seen);
        } else if (base.type === "call_expression") {
          const fn = base.childForFieldName("function")?.text ?? namedChildren(base)[0]?.text ?? "?";
          refs.add(`fn:${fn}`);
          this.traceChildren(decls, base, refs, seen);
        } else {
          this.traceInto(decls, base, refs, seen);
        }
        return;
      }
      case "call_expression": {
        const fn = node.childForFieldName("function")?.text ?? namedChildren(node)[0]?.text ?? "?";
        refs.add(`fn:${fn}`);
        const args = node.childForFieldName("arguments");
        if (args) this.traceChildren(decls, args, refs, seen);
        return;
      }
      case "lambda_expression":
        // Lambda parameters are local; only the body's free variables matter.
        this.traceInto(decls, namedChildren(node).at(-1) ?? node, refs, seen);
        return;
      default:
        this.traceChildren(decls, node, refs, seen);
    }
  }

  private traceChildren(decls: FileDecls, node: Node, refs: TraceRefs, seen: Set<string>): void {
    for (const child of namedChildren(node)) this.traceInto(decls, child, refs, seen);
  }

  private traceSymbol(decls: FileDecls, symbol: string, props: readonly string[], refs: TraceRefs, seen: Set<string>): void {
    const variable = decls.vars.get(symbol);
    if (variable) {
      const value = valueAfterEquals(variable);
      if (!value) return;
      // `settings.x` where settings is an object literal: follow only that property.
      const picked = props.length > 0 ? objectProperty(value, props[0] ?? "") : undefined;
      this.traceInto(decls, picked ?? value, refs, seen);
      return;
    }
    const param = decls.params.get(symbol);
    if (param) {
      this.traceParam(decls, symbol, param, refs, seen);
      return;
    }
    const resource = decls.resources.get(symbol);
    if (resource) {
      refs.add(`resource:${resource.type.toLowerCase()}#${props.join(".")}`);
      refs.add(`decl:${decls.file.rel}#${resource.symbol}`);
      return;
    }
    const module = decls.modules.get(symbol);
    if (module) {
      const target = module.targetPath ? this.byPath.get(module.targetPath) : undefined;
      const outputName = props[0] === "outputs" ? props[1] : undefined;
      const output = outputName ? target?.outputs.get(outputName) : undefined;
      const value = output ? valueAfterEquals(output) : undefined;
      if (target && value) this.traceInto(target, value, refs, seen);
      else refs.add(`module:${module.source}#${props.join(".")}`);
    }
    // Anything else is a loop or lambda variable, or a built-in namespace: nothing to follow.
  }

  private traceParam(decls: FileDecls, name: string, param: Node, refs: TraceRefs, seen: Set<string>): void {
    let passed = false;
    for (const { caller, module } of this.callers(decls.file)) {
      const value = objectProperty(module.body ? objectProperty(module.body, "params") : undefined, name);
      if (value) {
        passed = true;
        this.traceInto(caller, value, refs, seen);
      }
    }
    for (const deployment of this.hookCallers(decls.file)) {
      const value = deployment.params.get(name);
      if (!value) continue;
      passed = true;
      if (value.kind === "literal") continue;
      const azd = this.azdTemplatePath ? this.byPath.get(path.resolve(this.azdTemplatePath)) : undefined;
      const output = azd?.outputs.get(value.name);
      const outputValue = output ? valueAfterEquals(output) : undefined;
      if (azd && outputValue) this.traceInto(azd, outputValue, refs, seen);
      else refs.add(`env:${value.name}`);
    }
    const fallback = valueAfterEquals(param);
    if (fallback) this.traceInto(decls, fallback, refs, seen);
    if (!passed && !fallback) refs.add(`input:${decls.file.rel}#${name}`);
  }

  /** A string value known before deployment: a literal, or a variable / parameter default that is one. */
  literal(file: BicepFile, node: Node | undefined, depth = 0): string | undefined {
    if (!node || depth > 10) return undefined;
    const direct = stringLiteral(node);
    if (direct !== undefined) return direct;
    if (node.type !== "identifier") return undefined;
    const decls = this.decls(file);
    const declared = decls?.vars.get(node.text) ?? decls?.params.get(node.text);
    return declared ? this.literal(file, valueAfterEquals(declared), depth + 1) : undefined;
  }
}

/** `a.b.c` → base `a`, props [b, c]; `m[i].outputs.x` → base `m`; `s!.outputs.x` → base `s`. */
export function flattenMember(node: Node): { base: Node; props: string[] } {
  const props: string[] = [];
  let current = node;
  for (;;) {
    if (current.type === "member_expression") {
      const property = current.childForFieldName("property");
      const object = current.childForFieldName("object");
      if (!property || !object) break;
      props.unshift(property.text);
      current = object;
    } else if (current.type === "subscript_expression") {
      const object = current.childForFieldName("object") ?? namedChildren(current)[0];
      if (!object) break;
      current = object;
    } else if (current.type === "parenthesized_expression" && namedChildren(current).length === 1) {
      const inner = namedChildren(current)[0];
      if (!inner) break;
      current = inner;
    } else {
      break;
    }
  }
  return { base: current, props };
}
