// Function names: the ones the app registers (src/functions, src/orchestrations) and the ones
// infra refers to (the Event Grid webhook's functionName, a function resource id, hook commands).
import type { Node } from "web-tree-sitter";
import { namedChildren, visit, where, type BicepFile } from "./bicep";
import type { BicepModel } from "./model";

export interface SourceText {
  /** Path used in messages. */
  readonly file: string;
  readonly text: string;
}

export interface RegisteredFunction {
  readonly name: string;
  /** The registration call: `eventGrid`, `http`, `serviceBusQueue`, ... or `durable:orchestration`, `durable:activity`, `durable:entity`. */
  readonly kind: string;
  readonly file: string;
  readonly line: number;
}

/** Blanks comments (keeping line breaks and string literals) so commented-out registrations do not count. */
export function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? "";
    const next = text[i + 1] ?? "";
    if (ch === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (ch === "/" && next === "*") {
      i += 2;
      while (i < text.length && !(text[i] === "*" && text[i + 1] === "/")) {
        out += text[i] === "\n" ? "\n" : " ";
        i++;
      }
      i += 2;
    } else if (ch === '"' || ch === "'" || ch === "`") {
      const quote = ch;
      out += ch;
      i++;
      while (i < text.length && text[i] !== quote) {
        if (text[i] === "\\") {
          out += text[i] ?? "";
          i++;
        }
        out += text[i] ?? "";
        i++;
      }
      out += text[i] ?? "";
      i++;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

const REGISTRATION = /\b(df\s*\.\s*)?app\s*\.\s*([A-Za-z]+)\s*\(\s*(?:(["'`])([^"'`$\n]+)\3|([A-Za-z_$][\w$]*)\s*[,)])/g;
const CONSTANT = /\b(?:export\s+)?const\s+([A-Za-z_$][\w$]*)\s*(?::\s*string\s*)?=\s*(["'`])([^"'`$\n]+)\2/g;
const NOT_FUNCTIONS = new Set(["setup", "hook"]);

/**
 * Registrations of the v4 programming model: `app.<trigger>("name", ...)` and
 * `df.app.orchestration|activity|entity("name", ...)`. A name given as an identifier is looked up
 * among the string constants of all the sources (and of `constantSources`).
 */
export function scanRegisteredFunctions(sources: readonly SourceText[], constantSources: readonly SourceText[] = []): RegisteredFunction[] {
  const constants = new Map<string, string>();
  for (const source of [...constantSources, ...sources]) {
    for (const match of stripComments(source.text).matchAll(CONSTANT)) {
      const [, name, , value] = match;
      if (name && value) constants.set(name, value);
    }
  }
  const found: RegisteredFunction[] = [];
  for (const source of sources) {
    const text = stripComments(source.text);
    for (const match of text.matchAll(REGISTRATION)) {
      const [, durable, method, , literal, identifier] = match;
      if (!method || NOT_FUNCTIONS.has(method)) continue;
      const name = literal ?? (identifier ? constants.get(identifier) : undefined);
      if (!name) continue;
      const line = text.slice(0, match.index).split("\n").length;
      found.push({ name, kind: durable ? `durable:${method}` : method, file: source.file, line });
    }
  }
  return found;
}

export interface InfraFunctionRef {
  readonly name: string;
  /** eventGridWebhook: `/runtime/webhooks/eventgrid?functionName=`; the function must be an Event Grid trigger. */
  readonly via: "eventGridWebhook" | "functionResource" | "command";
  readonly where: string;
}

type Part = { readonly literal: string } | { readonly node: Node };

function stringParts(node: Node): Part[] {
  const parts: Part[] = [];
  for (const child of namedChildren(node)) {
    if (child.type === "interpolation") {
      const expression = namedChildren(child)[0];
      if (expression) parts.push({ node: expression });
    } else {
      parts.push({ literal: child.text });
    }
  }
  return parts;
}

const NAME = /^[A-Za-z0-9_-]+/;

/** Function names in one Bicep string: after `functionName=` or `/functions/`. */
function refsInString(model: BicepModel, file: BicepFile, node: Node): InfraFunctionRef[] {
  const parts = stringParts(node);
  const whole = parts.map((part) => ("literal" in part ? part.literal : "${}")).join("");
  const isWebhook = whole.includes("/runtime/webhooks/eventgrid");
  const refs: InfraFunctionRef[] = [];
  parts.forEach((part, index) => {
    if (!("literal" in part)) return;
    for (const marker of ["functionName=", "/functions/"] as const) {
      let at = part.literal.indexOf(marker);
      while (at >= 0) {
        const rest = part.literal.slice(at + marker.length);
        let name: string | undefined;
        if (rest.length > 0) {
          name = NAME.exec(rest)?.[0];
        } else {
          const next = parts[index + 1];
          name = next && "node" in next ? model.literal(file, next.node) : undefined;
          if (name === undefined) name = `<unresolved ${next && "node" in next ? next.node.text : "?"}>`;
        }
        if (name) {
          refs.push({
            name,
            via: marker === "functionName=" && isWebhook ? "eventGridWebhook" : marker === "functionName=" ? "command" : "functionResource",
            where: where(file, node),
          });
        }
        at = part.literal.indexOf(marker, at + 1);
      }
    }
  });
  return refs;
}

/** Every function name the Bicep files and the given other texts (hooks, azure.yaml) refer to. */
export function extractInfraFunctionRefs(model: BicepModel, otherTexts: readonly SourceText[] = []): InfraFunctionRef[] {
  const refs: InfraFunctionRef[] = [];
  for (const decls of model.all()) {
    visit(decls.file.root, (node) => {
      if (node.type === "string") refs.push(...refsInString(model, decls.file, node));
    });
  }
  const patterns: Array<[RegExp, InfraFunctionRef["via"]]> = [
    [/runtime\/webhooks\/eventgrid\?functionName=([A-Za-z0-9_-]+)/g, "eventGridWebhook"],
    [/(?<!eventgrid\?)functionName=([A-Za-z0-9_-]+)/g, "command"],
    [/\/functions\/([A-Za-z0-9_-]+)/g, "functionResource"],
    [/--function-name[= ]+["']?([A-Za-z0-9_-]+)/g, "command"],
  ];
  for (const source of otherTexts) {
    for (const [pattern, via] of patterns) {
      for (const match of source.text.matchAll(pattern)) {
        const name = match[1];
        if (!name) continue;
        const line = source.text.slice(0, match.index).split("\n").length;
        refs.push({ name, via, where: `${source.file}:${line}` });
      }
    }
  }
  return refs;
}

/** Problems for infra references to functions the app does not register (or registers as the wrong trigger). */
export function checkFunctionReferences(refs: readonly InfraFunctionRef[], registered: readonly RegisteredFunction[]): string[] {
  const problems: string[] = [];
  for (const ref of refs) {
    const matches = registered.filter((fn) => fn.name === ref.name);
    if (matches.length === 0) {
      const near = registered.find((fn) => fn.name.toLowerCase() === ref.name.toLowerCase());
      problems.push(
        `${ref.where}: infra refers to function '${ref.name}', which the app does not register (src/functions, src/orchestrations)` +
          (near ? `; did you mean '${near.name}' (${near.file}:${near.line})?` : ""),
      );
      continue;
    }
    if (ref.via === "eventGridWebhook" && !matches.some((fn) => fn.kind === "eventGrid")) {
      const kinds = matches.map((fn) => `${fn.kind} at ${fn.file}:${fn.line}`).join(", ");
      problems.push(`${ref.where}: the Event Grid webhook targets '${ref.name}', but the app registers it as ${kinds}, not app.eventGrid`);
    }
  }
  return problems;
}
