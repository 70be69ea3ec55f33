// Bicep parsing for the infrastructure checks the compiler cannot do (settings against the code,
// the hooks against the templates, bindings, roles): tree-sitter-bicep's WebAssembly grammar loaded
// with web-tree-sitter, plus a small model of each file's declarations that those checks read
// (params, variables, outputs, resources, modules). The compiler itself runs in bicep.test.ts.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";

/** The repository root: the nearest directory above the working directory with infra/ and package.json. */
export function repoRoot(start: string = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    try {
      readFileSync(path.join(dir, "package.json"));
      readdirSync(path.join(dir, "infra"));
      return dir;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) throw new Error(`no repository root (package.json + infra/) above ${start}`);
      dir = parent;
    }
  }
}

let parserPromise: Promise<Parser> | undefined;

/** A parser for Bicep, created once per process. */
export function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const wasm = createRequire(path.join(repoRoot(), "package.json")).resolve("tree-sitter-bicep/tree-sitter-bicep.wasm");
    const language = await Language.load(wasm);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

export interface BicepFile {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the repository root, with forward slashes (used in messages). */
  readonly rel: string;
  readonly text: string;
  readonly tree: Tree;
  readonly root: Node;
}

/**
 * tree-sitter-bicep 1.1.0 predates the `extension <alias>` statement (Bicep's newer name for
 * `provider`): it would be an ERROR node. No check here reads it, so the parser gets it as a comment
 * of the same length ("ex" becomes "//"), which keeps every other node's position.
 */
function hideExtensionStatements(text: string): string {
  return text.replace(/^extension(?=\s+\w+\s*$)/gm, "//tension");
}

export async function parseBicepText(text: string, absPath: string, root: string = repoRoot()): Promise<BicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(hideExtensionStatements(text));
  if (!tree) throw new Error(`tree-sitter returned no tree for ${absPath}`);
  const rel = path.relative(root, absPath).split(path.sep).join("/");
  return { path: absPath, rel, text, tree, root: tree.rootNode };
}

export async function parseBicepFile(absPath: string, root: string = repoRoot()): Promise<BicepFile> {
  return parseBicepText(readFileSync(absPath, "utf8"), absPath, root);
}

/** Every file under dir (recursively) whose name ends with one of the extensions, sorted. */
export function listFiles(dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(full);
      } else if (extensions.some((ext) => entry.name.endsWith(ext))) {
        out.push(full);
      }
    }
  };
  walk(dir);
  return out.sort();
}

export async function loadBicepFiles(dir: string, root: string = repoRoot()): Promise<BicepFile[]> {
  return Promise.all(listFiles(dir, [".bicep"]).map((file) => parseBicepFile(file, root)));
}

/** "file:line:col" of a node, 1-based. */
export function where(file: BicepFile, node: Node): string {
  return `${file.rel}:${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
}

export interface SyntaxError {
  readonly line: number;
  readonly column: number;
  /** "ERROR" for text the grammar could not place, "MISSING x" for a token it had to assume. */
  readonly kind: string;
  readonly text: string;
}

/** The first ERROR or MISSING node of a tree in document order, if any. */
export function firstSyntaxError(root: Node): SyntaxError | undefined {
  if (!root.hasError) return undefined;
  let found: Node | undefined;
  const visit = (node: Node): void => {
    if (found) return;
    if (node.isError || node.isMissing) {
      found = node;
      return;
    }
    for (const child of node.children) {
      if (child) visit(child);
    }
  };
  visit(root);
  if (!found) return undefined;
  return {
    line: found.startPosition.row + 1,
    column: found.startPosition.column + 1,
    kind: found.isMissing ? `MISSING ${found.type}` : "ERROR",
    text: found.text.split("\n")[0]?.slice(0, 60) ?? "",
  };
}

/** One problem per file that does not parse cleanly, naming the first error's position. */
export function checkBicepSyntax(files: readonly BicepFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const error = firstSyntaxError(file.root);
    if (error) {
      problems.push(`${file.rel}:${error.line}:${error.column}: syntax error (${error.kind}) at ${JSON.stringify(error.text)}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Declarations

export interface ResourceDecl {
  readonly symbol: string;
  /** Full resource type without API version, e.g. Microsoft.ServiceBus/namespaces/queues. */
  readonly type: string;
  readonly existing: boolean;
  readonly node: Node;
  /** The resource's body object (inside a loop or condition when there is one). */
  readonly body: Node | undefined;
}

export interface ModuleDecl {
  readonly symbol: string;
  /** The module path as written. */
  readonly source: string;
  /** Absolute path of a local module (undefined for registry modules). */
  readonly targetPath: string | undefined;
  readonly node: Node;
  readonly body: Node | undefined;
}

export interface FileDecls {
  readonly file: BicepFile;
  readonly params: Map<string, Node>;
  readonly vars: Map<string, Node>;
  readonly outputs: Map<string, Node>;
  readonly resources: Map<string, ResourceDecl>;
  readonly modules: Map<string, ModuleDecl>;
}

export function namedChildren(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null);
}

function children(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

/** The declared name of a param/var/output/resource/module declaration. */
function declName(node: Node): string | undefined {
  return namedChildren(node).find((child) => child.type === "identifier")?.text;
}

/** The expression after "=" in a declaration (a param's default, a variable's or output's value). */
export function valueAfterEquals(node: Node): Node | undefined {
  const all = children(node);
  const eq = all.findIndex((child) => child.type === "=");
  if (eq < 0) return undefined;
  return all.slice(eq + 1).find((child) => child.isNamed);
}

/** The body object of a resource or module, looking through `[for ...]` and `if (...)`. */
export function declBody(node: Node): Node | undefined {
  let value = valueAfterEquals(node);
  if (value?.type === "for_statement") value = value.childForFieldName("body") ?? namedChildren(value).at(-1);
  if (value?.type === "if_statement") value = namedChildren(value).find((child) => child.type === "object");
  return value?.type === "object" ? value : undefined;
}

/** The literal value of a string without interpolation, unescaped; undefined otherwise. */
export function stringLiteral(node: Node | undefined): string | undefined {
  if (!node || node.type !== "string") return undefined;
  let out = "";
  for (const child of namedChildren(node)) {
    if (child.type === "string_content") out += child.text;
    else if (child.type === "escape_sequence") out += unescape(child.text);
    else return undefined;
  }
  return out;
}

function unescape(sequence: string): string {
  switch (sequence) {
    case "\\'":
      return "'";
    case "\\\\":
      return "\\";
    case "\\n":
      return "\n";
    case "\\r":
      return "\r";
    case "\\t":
      return "\t";
    case "\\$":
      return "$";
    default:
      return sequence;
  }
}

export interface ObjectProperty {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: Node;
}

/** The statically named properties of an object literal (nested resource declarations excluded). */
export function objectProperties(object: Node): ObjectProperty[] {
  const out: ObjectProperty[] = [];
  for (const prop of namedChildren(object)) {
    if (prop.type !== "object_property") continue;
    const parts = namedChildren(prop);
    const keyNode = parts[0];
    const value = parts.at(-1);
    if (!keyNode || !value || parts.length < 2 || keyNode.type === "resource_declaration") continue;
    const key = keyNode.type === "string" ? stringLiteral(keyNode) : keyNode.text;
    if (key !== undefined) out.push({ key, keyNode, value });
  }
  return out;
}

export function objectProperty(object: Node | undefined, key: string): Node | undefined {
  if (object?.type !== "object") return undefined;
  return objectProperties(object).find((prop) => prop.key === key)?.value;
}

/** Follows a path of keys through nested object literals. */
export function propertyPath(object: Node | undefined, keys: readonly string[]): Node | undefined {
  let node = object;
  for (const key of keys) node = objectProperty(node, key);
  return node;
}

function isFullType(type: string): boolean {
  const slash = type.indexOf("/");
  return slash > 0 && type.slice(0, slash).includes(".");
}

function collectResources(file: BicepFile, node: Node, parentType: string | undefined, into: Map<string, ResourceDecl>): void {
  const symbol = declName(node);
  const typeNode = namedChildren(node).find((child) => child.type === "string");
  const written = (stringLiteral(typeNode) ?? "").split("@")[0] ?? "";
  const type = isFullType(written) || !parentType ? written : `${parentType}/${written}`;
  const existing = children(node).some((child) => child.type === "existing");
  const body = declBody(node);
  if (symbol) into.set(symbol, { symbol, type, existing, node, body });
  if (body) {
    for (const prop of namedChildren(body)) {
      if (prop.type !== "object_property") continue;
      const nested = namedChildren(prop).find((child) => child.type === "resource_declaration");
      if (nested) collectResources(file, nested, type, into);
    }
  }
}

export function declarations(file: BicepFile): FileDecls {
  const decls: FileDecls = { file, params: new Map(), vars: new Map(), outputs: new Map(), resources: new Map(), modules: new Map() };
  for (const statement of namedChildren(file.root)) {
    const name = declName(statement);
    switch (statement.type) {
      case "parameter_declaration":
        if (name) decls.params.set(name, statement);
        break;
      case "variable_declaration":
        if (name) decls.vars.set(name, statement);
        break;
      case "output_declaration":
        if (name) decls.outputs.set(name, statement);
        break;
      case "resource_declaration":
        collectResources(file, statement, undefined, decls.resources);
        break;
      case "module_declaration": {
        const source = stringLiteral(namedChildren(statement).find((child) => child.type === "string")) ?? "";
        const local = !source.includes(":") && source.endsWith(".bicep");
        if (name) {
          decls.modules.set(name, {
            symbol: name,
            source,
            targetPath: local ? path.resolve(path.dirname(file.path), source) : undefined,
            node: statement,
            body: declBody(statement),
          });
        }
        break;
      }
      default:
        break;
    }
  }
  return decls;
}

/** True when a parameter has no default and its type is not nullable (`string?`): callers must pass it. */
export function isRequiredParam(param: Node): boolean {
  if (valueAfterEquals(param)) return false;
  const type = namedChildren(param).find((child) => child.type === "type");
  return !(type?.text.trim().endsWith("?") ?? false);
}

/** Calls fn for every node of the subtree, depth first. */
export function visit(node: Node, fn: (node: Node) => void): void {
  fn(node);
  for (const child of namedChildren(node)) visit(child, fn);
}
