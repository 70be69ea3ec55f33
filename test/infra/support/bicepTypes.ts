// A type check of resource bodies against the Bicep compiler's own type data (bicep-types-az,
// vendored under specs/bicep-types/generated/), for a machine where the compiler cannot run. It
// mirrors what the compiler does with that data (AzResourceTypeProvider / AzResourceTypeFactory):
// case-insensitive type lookup, the keywords and generic top-level properties Bicep adds to every
// body, literal names only where the full name is the literal, discriminated objects merged from
// base and element properties. Values it cannot evaluate are counted as skipped, never guessed.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import type { Node } from "web-tree-sitter";
import { namedChildren, repoRoot, stringLiteral, valueAfterEquals, type BicepFile } from "./bicep";

// ---------------------------------------------------------------------------------------------
// Type data

export const PropertyFlags = { Required: 1, ReadOnly: 2, WriteOnly: 4, DeployTimeConstant: 8 } as const;
/** bicep-types ScopeType bits (writableScopes / readableScopes). */
const Scope = { Tenant: 1, ManagementGroup: 2, Subscription: 4, ResourceGroup: 8, Extension: 16 } as const;

export interface TypeRef {
  readonly $ref: string;
}

export interface PropertyDef {
  readonly type: TypeRef;
  readonly flags?: number;
  readonly description?: string;
}

interface StringTypeNode {
  readonly $type: "StringType";
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
}
interface StringLiteralTypeNode {
  readonly $type: "StringLiteralType";
  readonly value: string;
}
interface IntegerTypeNode {
  readonly $type: "IntegerType";
  readonly minValue?: number;
  readonly maxValue?: number;
}
interface ObjectTypeNode {
  readonly $type: "ObjectType";
  readonly name: string;
  readonly properties: Readonly<Record<string, PropertyDef>>;
  readonly additionalProperties?: TypeRef;
}
interface ArrayTypeNode {
  readonly $type: "ArrayType";
  readonly itemType: TypeRef;
  readonly minLength?: number;
  readonly maxLength?: number;
}
interface UnionTypeNode {
  readonly $type: "UnionType";
  readonly elements: readonly TypeRef[];
}
interface DiscriminatedObjectTypeNode {
  readonly $type: "DiscriminatedObjectType";
  readonly name: string;
  readonly discriminator: string;
  readonly baseProperties: Readonly<Record<string, PropertyDef>>;
  readonly elements: Readonly<Record<string, TypeRef>>;
}
interface ResourceTypeNode {
  readonly $type: "ResourceType";
  readonly name: string;
  readonly body: TypeRef;
  readonly readableScopes?: number;
  readonly writableScopes?: number;
  // The older format (before readable/writable scopes) still appears in some folders.
  readonly scopeType?: number;
  readonly flags?: number;
}
interface SimpleTypeNode {
  readonly $type: "AnyType" | "BooleanType" | "NullType" | "ResourceFunctionType";
}
/** A node kind this checker does not know: values of it are skipped, and the kind is named. */
interface UnsupportedTypeNode {
  readonly $type: "Unsupported";
  readonly original: string;
}

export type TypeNode =
  | StringTypeNode
  | StringLiteralTypeNode
  | IntegerTypeNode
  | ObjectTypeNode
  | ArrayTypeNode
  | UnionTypeNode
  | DiscriminatedObjectTypeNode
  | ResourceTypeNode
  | SimpleTypeNode
  | UnsupportedTypeNode;

const KNOWN_KINDS = new Set([
  "StringType",
  "StringLiteralType",
  "IntegerType",
  "ObjectType",
  "ArrayType",
  "UnionType",
  "DiscriminatedObjectType",
  "ResourceType",
  "AnyType",
  "BooleanType",
  "NullType",
  "ResourceFunctionType",
]);

/** One vendored types.json: its nodes, with refs resolved within the file. */
export class TypeFile {
  constructor(
    /** Path relative to the repository root. */
    readonly rel: string,
    readonly nodes: readonly TypeNode[],
  ) {}

  resolve(ref: TypeRef): TypeNode {
    const match = /^#\/(\d+)$/.exec(ref.$ref);
    const node = match ? this.nodes[Number(match[1])] : undefined;
    if (!node) throw new Error(`${this.rel}: unresolvable type reference ${ref.$ref}`);
    return node;
  }
}

function parseTypeFile(rel: string, text: string): TypeFile {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error(`${rel}: expected a JSON array of type nodes`);
  const nodes = data.map((item: unknown, index): TypeNode => {
    if (typeof item !== "object" || item === null || !("$type" in item) || typeof item.$type !== "string") {
      throw new Error(`${rel}: node ${index} has no $type`);
    }
    // The shape of each known kind is the documented bicep-types format; fields are read defensively.
    return KNOWN_KINDS.has(item.$type) ? (item as TypeNode) : { $type: "Unsupported", original: item.$type };
  });
  return new TypeFile(rel, nodes);
}

export interface ResolvedResourceType {
  /** The exact name in the type data, e.g. Microsoft.Web/sites@2024-04-01. */
  readonly name: string;
  readonly node: ResourceTypeNode;
  readonly file: TypeFile;
}

/**
 * The vendored type data, loaded lazily: a lookup reads only the types.json files of that
 * namespace and apiVersion (generated/<provider>/<namespace>/<apiVersion>/types.json; several
 * provider folders can hold the same namespace and version).
 */
export class BicepTypeLibrary {
  private readonly files = new Map<string, TypeFile>();
  private readonly byFolder = new Map<string, Map<string, ResolvedResourceType>>();
  private providers: string[] | undefined;

  constructor(
    /** Absolute path of the generated/ folder. */
    readonly generatedDir: string,
    private readonly root: string = repoRoot(),
  ) {}

  /** Case-insensitive, as the compiler's ResourceTypeReference comparison is. */
  lookup(type: string, apiVersion: string): ResolvedResourceType | undefined {
    const namespace = type.split("/")[0] ?? "";
    return this.folderIndex(namespace, apiVersion).get(`${type}@${apiVersion}`.toLowerCase());
  }

  /** The vendored apiVersions that have this type (for the message of an unknown type@apiVersion). */
  versionsOf(type: string): string[] {
    const namespace = (type.split("/")[0] ?? "").toLowerCase();
    const versions = new Set<string>();
    for (const provider of this.providerDirs()) {
      for (const version of safeReaddir(path.join(this.generatedDir, provider, namespace))) versions.add(version);
    }
    return [...versions].filter((version) => [...this.folderIndex(namespace, version).values()].some((r) => r.name.split("@")[0]?.toLowerCase() === type.toLowerCase())).sort();
  }

  /** Every vendored types.json (for checks over the whole data, such as which patterns compile). */
  loadAll(): TypeFile[] {
    const out: TypeFile[] = [];
    for (const provider of this.providerDirs()) {
      for (const namespace of safeReaddir(path.join(this.generatedDir, provider))) {
        for (const version of safeReaddir(path.join(this.generatedDir, provider, namespace))) {
          const file = this.loadFile(path.join(this.generatedDir, provider, namespace, version, "types.json"));
          if (file) out.push(file);
        }
      }
    }
    return out;
  }

  /** Every types.json read so far, relative to the repository root. */
  loadedFiles(): string[] {
    return [...this.files.keys()].sort();
  }

  private providerDirs(): string[] {
    this.providers ??= safeReaddir(this.generatedDir).sort();
    return this.providers;
  }

  private folderIndex(namespace: string, apiVersion: string): Map<string, ResolvedResourceType> {
    const key = `${namespace}/${apiVersion}`.toLowerCase();
    const cached = this.byFolder.get(key);
    if (cached) return cached;
    const index = new Map<string, ResolvedResourceType>();
    for (const provider of this.providerDirs()) {
      const abs = path.join(this.generatedDir, provider, namespace.toLowerCase(), apiVersion.toLowerCase(), "types.json");
      const file = this.loadFile(abs);
      if (!file) continue;
      for (const node of file.nodes) {
        if (node.$type === "ResourceType") index.set(node.name.toLowerCase(), { name: node.name, node, file });
      }
    }
    this.byFolder.set(key, index);
    return index;
  }

  private loadFile(abs: string): TypeFile | undefined {
    const rel = path.relative(this.root, abs).split(path.sep).join("/");
    const cached = this.files.get(rel);
    if (cached) return cached;
    let text: string;
    try {
      text = readFileSync(abs, "utf8");
    } catch {
      return undefined;
    }
    const file = parseTypeFile(rel, text);
    this.files.set(rel, file);
    return file;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

let defaultLibrary: BicepTypeLibrary | undefined;

/** The library over specs/bicep-types/generated of this repository, created once per process. */
export function vendoredTypes(): BicepTypeLibrary {
  defaultLibrary ??= new BicepTypeLibrary(path.join(repoRoot(), "specs/bicep-types/generated"));
  return defaultLibrary;
}

// ---------------------------------------------------------------------------------------------
// .NET patterns in JavaScript

export type CompiledPattern = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly reason: string };

const patternCache = new Map<string, CompiledPattern>();

/**
 * A .NET regular expression as a JavaScript RegExp with the same meaning, or why not. .NET-only
 * constructs are refused rather than approximated; `$` becomes "end, or before a final newline"
 * as in .NET; a leading `(?i)` becomes the i flag. (\w and \d are ASCII in JavaScript but Unicode in
 * .NET: the same for the ASCII names these patterns check.)
 */
export function compileDotNetPattern(pattern: string): CompiledPattern {
  const cached = patternCache.get(pattern);
  if (cached) return cached;
  const result = translatePattern(pattern);
  patternCache.set(pattern, result);
  return result;
}

function translatePattern(pattern: string): CompiledPattern {
  let source = pattern;
  let flags = "";
  const inline = /^\(\?([imnsx]+)\)/.exec(source);
  if (inline) {
    const options = inline[1] ?? "";
    if (/[nx]/.test(options)) return { ok: false, reason: `inline option (?${options}) has no JavaScript equivalent` };
    flags = options;
    source = source.slice(inline[0].length);
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] ?? "";
    const next = source[i + 1] ?? "";
    if (ch === "\\") {
      if (!inClass && next === "A") out += "^";
      else if (!inClass && next === "z") out += "$";
      else if (!inClass && next === "Z") out += "(?=\\n?$)";
      else if (next === "G") return { ok: false, reason: "\\G has no JavaScript equivalent" };
      else out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "-" && next === "[") return { ok: false, reason: "character class subtraction" };
      if (ch === "]") inClass = false;
      out += ch;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += ch;
      // A ']' right after '[' or '[^' is a literal in .NET.
      if (source[i + 1] === "^") {
        out += "^";
        i++;
      }
      if (source[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (ch === "(" && next === "?") {
      const rest = source.slice(i + 2);
      if (rest.startsWith(">")) return { ok: false, reason: "atomic group (?>...)" };
      if (rest.startsWith("'")) return { ok: false, reason: "named group (?'name'...)" };
      if (rest.startsWith("#")) return { ok: false, reason: "comment group (?#...)" };
      if (/^[imnsx-]+[:)]/.test(rest)) return { ok: false, reason: "inline options group" };
      if (rest.startsWith("(")) return { ok: false, reason: "conditional group" };
    }
    if (ch === "$") {
      out += flags.includes("m") ? "$" : "(?=\\n?$)";
      continue;
    }
    out += ch;
  }
  // Unicode mode first (\p{...} needs it); it rejects needless escapes, so retry without it, unless
  // the pattern relies on Unicode classes that would silently mean something else.
  try {
    return { ok: true, regex: new RegExp(out, `${flags}u`) };
  } catch {
    if (/\\[pP]\{/.test(out)) return { ok: false, reason: "Unicode class needs JavaScript's u flag, which rejects the rest" };
    try {
      return { ok: true, regex: new RegExp(out, flags) };
    } catch (error) {
      return { ok: false, reason: `not a JavaScript regex (${error instanceof Error ? error.message : String(error)})` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Findings

export type Rule =
  | "unknown-type"
  | "read-only-type"
  | "unknown-property"
  | "miscased-property"
  | "read-only-property"
  | "required-property"
  | "enum"
  | "type-mismatch"
  | "int-range"
  | "string-length"
  | "string-pattern"
  | "array-length";

export interface Finding {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The resource's symbol; nested resources as parent::child. */
  readonly symbol: string;
  /** Property path inside the body, e.g. properties.filter.advancedFilters[0].operatorType; "" for the resource itself. */
  readonly path: string;
  readonly rule: Rule;
  readonly message: string;
}

export function formatFinding(finding: Finding): string {
  const subject = finding.path ? `${finding.symbol} ${finding.path}` : finding.symbol;
  return `${finding.file}:${finding.line}:${finding.column}: ${subject}: [${finding.rule}] ${finding.message}`;
}

export interface Skip {
  readonly file: string;
  readonly line: number;
  readonly symbol: string;
  readonly path: string;
  readonly reason: string;
}

export interface CheckedResource {
  readonly file: string;
  readonly line: number;
  readonly symbol: string;
  /** As written (nested resources: the full type and the inherited apiVersion). */
  readonly type: string;
  readonly apiVersion: string;
  /** The exact type data name, when vendored. */
  readonly resolved: string | undefined;
  readonly typesFile: string | undefined;
  readonly existing: boolean;
  /** "loop", "condition", "loop+condition" or "". */
  readonly wrapper: string;
  /** False for existing resources and bodies that are not object literals. */
  readonly bodyChecked: boolean;
}

export interface TypeCheckReport {
  readonly findings: Finding[];
  readonly resources: CheckedResource[];
  readonly skips: Skip[];
  /** Literal values compared with their declared type. */
  readonly checkedValues: number;
  /** Distinct type-data patterns that JavaScript cannot evaluate, with the reason. */
  readonly skippedPatterns: Map<string, string>;
}

/** Skip counts by reason, most frequent first. */
export function skipTally(report: TypeCheckReport): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const skip of report.skips) counts.set(skip.reason, (counts.get(skip.reason) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function summarize(report: TypeCheckReport): string {
  const bodies = report.resources.filter((r) => r.bodyChecked).length;
  const existing = report.resources.filter((r) => r.existing).length;
  const lines = [
    `Bicep type check: ${report.resources.length} resources (${bodies} bodies checked, ${existing} existing), ${report.checkedValues} literal values checked, ${report.skips.length} values skipped, ${report.findings.length} findings`,
    ...skipTally(report).map(([reason, count]) => `  skipped ${count} × ${reason}`),
    ...[...report.skippedPatterns.entries()].map(([pattern, reason]) => `  pattern not checked: /${pattern}/ (${reason})`),
  ];
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The walk

/** A property of the object shape a literal is checked against. */
type ShapeProp =
  | { readonly kind: "typed"; readonly flags: number; readonly file: TypeFile; readonly ref: TypeRef }
  /** parent, scope, dependsOn, asserts: Bicep keywords whose values are references, not data. */
  | { readonly kind: "keyword"; readonly flags: number }
  /** Bicep's generic top-level property for a type whose data lacks it (BCP187). */
  | { readonly kind: "fallback"; readonly flags: number }
  /** A name Bicep types as plain string (a top-level child resource's name is a path). */
  | { readonly kind: "string"; readonly flags: number };

interface Shape {
  readonly name: string;
  readonly props: Map<string, ShapeProp>;
  readonly additional: { readonly file: TypeFile; readonly ref: TypeRef } | undefined;
}

/** Bicep's KnownTopLevelResourceProperties: accepted on any body, with a warning when the data lacks them. */
const GENERIC_TOP_LEVEL = ["location", "tags", "properties", "sku", "kind", "managedBy", "managedByExtended", "extendedLocation", "zones", "plan", "eTag", "scale", "identity"];

class Collector {
  findings: Finding[] = [];
  skips: Skip[] = [];
  checkedValues = 0;

  merge(other: Collector): void {
    this.findings.push(...other.findings);
    this.skips.push(...other.skips);
    this.checkedValues += other.checkedValues;
  }
}

interface Ctx {
  readonly file: BicepFile;
  readonly symbol: string;
  readonly out: Collector;
  readonly patterns: Map<string, string>;
}

function withOut(ctx: Ctx, out: Collector): Ctx {
  return { ...ctx, out };
}

function finding(ctx: Ctx, node: Node, path: string, rule: Rule, message: string): void {
  ctx.out.findings.push({ file: ctx.file.rel, line: node.startPosition.row + 1, column: node.startPosition.column + 1, symbol: ctx.symbol, path, rule, message });
}

function skip(ctx: Ctx, node: Node, path: string, reason: string): void {
  ctx.out.skips.push({ file: ctx.file.rel, line: node.startPosition.row + 1, symbol: ctx.symbol, path, reason });
}

function isTrivia(node: Node): boolean {
  return node.type === "comment" || node.type === "diagnostic_comment";
}

function childPath(base: string, key: string): string {
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base ? `${base}.${key}` : key;
}

/** What a value expression is, as far as the checker can tell without evaluating anything. */
type Value =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "bool" }
  | { readonly kind: "null" }
  | { readonly kind: "object" }
  | { readonly kind: "array" }
  | { readonly kind: "interpolated-string" }
  | { readonly kind: "opaque"; readonly reason: string };

function literalString(node: Node): string | undefined {
  const value = stringLiteral(node);
  // Bicep drops a line break right after the opening ''' of a multi-line string.
  if (value !== undefined && node.text.startsWith("'''")) return value.replace(/^\r?\n/, "");
  return value;
}

function classify(node: Node): Value {
  switch (node.type) {
    case "string": {
      const value = literalString(node);
      return value === undefined ? { kind: "interpolated-string" } : { kind: "string", value };
    }
    case "number":
      return /^-?\d+$/.test(node.text) ? { kind: "int", value: Number(node.text) } : { kind: "opaque", reason: "non-integer number" };
    case "unary_expression": {
      const parts = namedChildren(node).filter((child) => !isTrivia(child));
      const operand = parts[0];
      if (node.text.trimStart().startsWith("-") && operand?.type === "number" && /^\d+$/.test(operand.text)) return { kind: "int", value: -Number(operand.text) };
      return { kind: "opaque", reason: "operator expression" };
    }
    case "boolean":
      return { kind: "bool" };
    case "null":
      return { kind: "null" };
    case "object":
      return { kind: "object" };
    case "array":
      return { kind: "array" };
    case "identifier":
      return { kind: "opaque", reason: "parameter, variable or loop variable" };
    case "member_expression":
    case "subscript_expression":
    case "resource_expression":
      return { kind: "opaque", reason: "property or index access" };
    case "call_expression":
      return { kind: "opaque", reason: "function call" };
    case "binary_expression":
      return { kind: "opaque", reason: "operator expression" };
    case "lambda_expression":
      return { kind: "opaque", reason: "lambda" };
    case "ERROR":
      return { kind: "opaque", reason: "unparsed syntax" };
    default:
      return { kind: "opaque", reason: node.type.replace(/_/g, " ") };
  }
}

function unwrap(node: Node): Node {
  let current = node;
  while (current.type === "parenthesized_expression") {
    const inner = namedChildren(current).filter((child) => !isTrivia(child));
    if (inner.length !== 1 || !inner[0]) break;
    current = inner[0];
  }
  return current;
}

/** A short description of a type for messages. */
function describe(file: TypeFile, type: TypeNode, depth = 0): string {
  switch (type.$type) {
    case "StringType":
      return "string";
    case "StringLiteralType":
      return `'${type.value}'`;
    case "IntegerType":
      return "int";
    case "BooleanType":
      return "bool";
    case "NullType":
      return "null";
    case "AnyType":
      return "any";
    case "ObjectType":
      return `object (${type.name})`;
    case "DiscriminatedObjectType":
      return `object (${type.name})`;
    case "ArrayType":
      return depth > 1 ? "array" : `${describe(file, file.resolve(type.itemType), depth + 1)}[]`;
    case "UnionType": {
      const parts = type.elements.map((ref) => describe(file, file.resolve(ref), depth + 1));
      return parts.length > 12 ? `${parts.slice(0, 12).join(" | ")} | … (${parts.length} members)` : parts.join(" | ");
    }
    case "ResourceType":
      return type.name;
    case "ResourceFunctionType":
      return "function";
    case "Unsupported":
      return type.original;
  }
}

function valueKind(value: Value): string {
  switch (value.kind) {
    case "string":
      return `string '${value.value}'`;
    case "int":
      return `int ${value.value}`;
    case "interpolated-string":
      return "string";
    case "opaque":
      return value.reason;
    default:
      return value.kind;
  }
}

/** Whether a type node can hold a value of this kind at all (unions are looked into by the caller). */
function accepts(type: TypeNode, value: Value): boolean {
  switch (value.kind) {
    case "string":
    case "interpolated-string":
      return type.$type === "StringType" || type.$type === "StringLiteralType";
    case "int":
      return type.$type === "IntegerType";
    case "bool":
      return type.$type === "BooleanType";
    case "null":
      return type.$type === "NullType";
    case "object":
      return type.$type === "ObjectType" || type.$type === "DiscriminatedObjectType";
    case "array":
      return type.$type === "ArrayType";
    case "opaque":
      return true;
  }
}

function checkValue(ctx: Ctx, raw: Node, file: TypeFile, ref: TypeRef, path: string, flags: number): void {
  const node = unwrap(raw);
  if (node.type === "ternary_expression") {
    // Both branches are values the property can get: each is checked on its own.
    const consequence = node.childForFieldName("consequence");
    const alternative = node.childForFieldName("alternative");
    if (consequence) checkValue(ctx, consequence, file, ref, path, flags);
    if (alternative) checkValue(ctx, alternative, file, ref, path, flags);
    return;
  }
  if (node.type === "for_statement") {
    checkForExpression(ctx, node, file, file.resolve(ref), path);
    return;
  }
  const value = classify(node);
  if (value.kind === "opaque") {
    skip(ctx, node, path, value.reason);
    return;
  }
  if (value.kind === "null") {
    // The compiler lets null stand for "not set" on properties that are neither required nor read-only.
    ctx.out.checkedValues++;
    if (flags & PropertyFlags.Required) finding(ctx, node, path, "type-mismatch", "null for a required property");
    return;
  }
  checkAgainst(ctx, node, value, file, file.resolve(ref), path);
}

function checkForExpression(ctx: Ctx, node: Node, file: TypeFile, type: TypeNode, path: string): void {
  const body = node.childForFieldName("body") ?? namedChildren(node).at(-1);
  if (!body) return;
  const arrays = type.$type === "UnionType" ? type.elements.map((ref) => file.resolve(ref)).filter((t) => t.$type === "ArrayType" || t.$type === "AnyType") : [type];
  const target = arrays[0];
  if (!target || arrays.length > 1) {
    if (!target) finding(ctx, node, path, "type-mismatch", `expected ${describe(file, type)}, got an array (for-expression)`);
    else skip(ctx, node, path, "union of several array types");
    return;
  }
  if (target.$type === "AnyType") return;
  if (target.$type !== "ArrayType") {
    finding(ctx, node, path, "type-mismatch", `expected ${describe(file, type)}, got an array (for-expression)`);
    return;
  }
  checkValue(ctx, body, file, target.itemType, `${path}[*]`, 0);
}

function checkAgainst(ctx: Ctx, node: Node, value: Value, file: TypeFile, type: TypeNode, path: string): void {
  switch (type.$type) {
    case "AnyType":
      ctx.out.checkedValues++;
      return;
    case "Unsupported":
    case "ResourceType":
    case "ResourceFunctionType":
      skip(ctx, node, path, `type node ${type.$type === "Unsupported" ? type.original : type.$type} not supported by the checker`);
      return;
    case "UnionType":
      checkUnion(ctx, node, value, file, type, path);
      return;
    default:
      break;
  }
  if (!accepts(type, value)) {
    ctx.out.checkedValues++;
    finding(ctx, node, path, "type-mismatch", `expected ${describe(file, type)}, got ${valueKind(value)}`);
    return;
  }
  if (value.kind === "interpolated-string") {
    // A string whose value is only known at deployment: its kind fits, its content cannot be checked.
    skip(ctx, node, path, "interpolated string");
    return;
  }
  switch (type.$type) {
    case "StringLiteralType":
      ctx.out.checkedValues++;
      if (value.kind === "string" && value.value !== type.value) {
        finding(ctx, node, path, "enum", `'${value.value}' is not the allowed value '${type.value}'${caseHint(value.value, [type.value])}`);
      }
      return;
    case "StringType":
      if (value.kind === "string") checkString(ctx, node, value.value, type, path);
      return;
    case "IntegerType":
      ctx.out.checkedValues++;
      if (value.kind === "int") checkInt(ctx, node, value.value, type, path);
      return;
    case "BooleanType":
    case "NullType":
      ctx.out.checkedValues++;
      return;
    case "ObjectType":
      checkObject(ctx, node, objectShape(file, type), path);
      return;
    case "DiscriminatedObjectType":
      checkDiscriminated(ctx, node, file, type, path, undefined);
      return;
    case "ArrayType":
      checkArray(ctx, node, file, type, path);
      return;
  }
}

function caseHint(value: string, allowed: readonly string[]): string {
  const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  return match ? ` (did you mean '${match}'? values are case-sensitive)` : "";
}

function checkUnion(ctx: Ctx, node: Node, value: Value, file: TypeFile, union: UnionTypeNode, path: string): void {
  const members = union.elements.map((ref) => file.resolve(ref));
  if (members.some((member) => member.$type === "AnyType")) {
    ctx.out.checkedValues++;
    return;
  }
  const candidates = members.filter((member) => member.$type !== "UnionType" && accepts(member, value));
  const nested = members.filter((member): member is UnionTypeNode => member.$type === "UnionType");
  if (value.kind === "string") {
    const literals = candidates.filter((member): member is StringLiteralTypeNode => member.$type === "StringLiteralType").map((member) => member.value);
    if (literals.includes(value.value)) {
      ctx.out.checkedValues++;
      return;
    }
    const open = candidates.filter((member): member is StringTypeNode => member.$type === "StringType");
    if (open.length === 0 && nested.length === 0) {
      ctx.out.checkedValues++;
      if (literals.length > 0) {
        const list = literals.length > 20 ? `${literals.slice(0, 20).map((l) => `'${l}'`).join(", ")}, … (${literals.length} values)` : literals.map((l) => `'${l}'`).join(", ");
        finding(ctx, node, path, "enum", `'${value.value}' is not one of ${list}${caseHint(value.value, literals)}`);
      } else {
        finding(ctx, node, path, "type-mismatch", `expected ${describe(file, union)}, got ${valueKind(value)}`);
      }
      return;
    }
    // An open union (it has plain string): the value must meet one string member's constraints.
    tryMembers(ctx, node, value, file, [...open, ...nested], path);
    return;
  }
  const all = [...candidates, ...nested];
  if (all.length === 0) {
    ctx.out.checkedValues++;
    finding(ctx, node, path, "type-mismatch", `expected ${describe(file, union)}, got ${valueKind(value)}`);
    return;
  }
  if (value.kind === "interpolated-string") {
    skip(ctx, node, path, "interpolated string");
    return;
  }
  tryMembers(ctx, node, value, file, all, path);
}

/** Accept the first member the value fits without findings; else report the first member's findings. */
function tryMembers(ctx: Ctx, node: Node, value: Value, file: TypeFile, members: readonly TypeNode[], path: string): void {
  const attempts = members.map((member) => {
    const out = new Collector();
    checkAgainst(withOut(ctx, out), node, value, file, member, path);
    return out;
  });
  const clean = attempts.find((attempt) => attempt.findings.length === 0);
  if (clean) {
    ctx.out.merge(clean);
    return;
  }
  if (value.kind === "object" && attempts.length > 1) {
    skip(ctx, node, path, "object matching none of several union members");
    return;
  }
  const first = attempts[0];
  if (first) ctx.out.merge(first);
}

function checkString(ctx: Ctx, node: Node, value: string, type: StringTypeNode, path: string): void {
  ctx.out.checkedValues++;
  if (type.minLength !== undefined && value.length < type.minLength) {
    finding(ctx, node, path, "string-length", `'${value}' is ${value.length} characters, shorter than the minimum ${type.minLength}`);
  }
  if (type.maxLength !== undefined && value.length > type.maxLength) {
    finding(ctx, node, path, "string-length", `'${value}' is ${value.length} characters, longer than the maximum ${type.maxLength}`);
  }
  if (type.pattern !== undefined) {
    const compiled = compileDotNetPattern(type.pattern);
    if (!compiled.ok) {
      ctx.patterns.set(type.pattern, compiled.reason);
      skip(ctx, node, path, "pattern JavaScript cannot evaluate");
    } else if (!compiled.regex.test(value)) {
      finding(ctx, node, path, "string-pattern", `'${value}' does not match the pattern /${type.pattern}/`);
    }
  }
}

function checkInt(ctx: Ctx, node: Node, value: number, type: IntegerTypeNode, path: string): void {
  if (type.minValue !== undefined && value < type.minValue) finding(ctx, node, path, "int-range", `${value} is less than the minimum ${type.minValue}`);
  if (type.maxValue !== undefined && value > type.maxValue) finding(ctx, node, path, "int-range", `${value} is greater than the maximum ${type.maxValue}`);
}

function arrayItems(node: Node): Node[] {
  return namedChildren(node).filter((child) => !isTrivia(child) && child.type !== "decorators");
}

function checkArray(ctx: Ctx, node: Node, file: TypeFile, type: ArrayTypeNode, path: string): void {
  const items = arrayItems(node);
  const unparsed = items.some((item) => item.type === "ERROR");
  ctx.out.checkedValues++;
  if (!unparsed && type.minLength !== undefined && items.length < type.minLength) {
    finding(ctx, node, path, "array-length", `${items.length} items, fewer than the minimum ${type.minLength}`);
  }
  if (!unparsed && type.maxLength !== undefined && items.length > type.maxLength) {
    finding(ctx, node, path, "array-length", `${items.length} items, more than the maximum ${type.maxLength}`);
  }
  items.forEach((item, index) => checkValue(ctx, item, file, type.itemType, `${path}[${index}]`, 0));
}

function objectShape(file: TypeFile, type: ObjectTypeNode): Shape {
  const props = new Map<string, ShapeProp>();
  for (const [name, def] of Object.entries(type.properties)) props.set(name, { kind: "typed", flags: def.flags ?? 0, file, ref: def.type });
  return { name: type.name, props, additional: type.additionalProperties ? { file, ref: type.additionalProperties } : undefined };
}

/** A property key as written: identifier, or a string without interpolation; undefined when computed. */
function propertyKey(keyNode: Node): string | undefined {
  if (keyNode.type === "string") return literalString(keyNode);
  return keyNode.text;
}

function checkObject(ctx: Ctx, node: Node, shape: Shape, path: string): void {
  // Required properties are only judged when every key of the literal is known.
  let complete = true;
  const seen = new Set<string>();
  for (const child of namedChildren(node)) {
    if (isTrivia(child) || child.type === "decorators") continue;
    if (child.type !== "object_property") {
      complete = false;
      skip(ctx, child, path, child.type === "ERROR" ? "unparsed syntax (e.g. a spread)" : child.type.replace(/_/g, " "));
      continue;
    }
    const parts = namedChildren(child).filter((part) => !isTrivia(part));
    const keyNode = parts[0];
    const value = parts.at(-1);
    if (!keyNode || keyNode.type === "resource_declaration") continue;
    if (!value || parts.length < 2) {
      complete = false;
      continue;
    }
    const key = propertyKey(keyNode);
    if (key === undefined) {
      complete = false;
      const computed = `${path}[${keyNode.text}]`;
      if (shape.additional) checkValue(ctx, value, shape.additional.file, shape.additional.ref, computed, 0);
      else skip(ctx, keyNode, computed, "computed property name");
      continue;
    }
    seen.add(key);
    const propPath = childPath(path, key);
    const prop = shape.props.get(key);
    if (!prop) {
      if (shape.additional) {
        checkValue(ctx, value, shape.additional.file, shape.additional.ref, propPath, 0);
        continue;
      }
      const cased = [...shape.props.keys()].find((name) => name.toLowerCase() === key.toLowerCase());
      if (cased) finding(ctx, keyNode, propPath, "miscased-property", `'${key}' is not a property of ${shape.name}; did you mean '${cased}'? (property names are case-sensitive)`);
      else finding(ctx, keyNode, propPath, "unknown-property", `'${key}' is not a property of ${shape.name}${nearHint(key, [...shape.props.keys()])}`);
      continue;
    }
    if (prop.flags & PropertyFlags.ReadOnly) {
      finding(ctx, keyNode, propPath, "read-only-property", `'${key}' is read-only in ${shape.name}`);
      continue;
    }
    switch (prop.kind) {
      case "keyword":
        break;
      case "fallback":
        finding(ctx, keyNode, propPath, "unknown-property", `'${key}' is not in the type data of ${shape.name} (Bicep accepts it only as a generic top-level property, with warning BCP187)`);
        break;
      case "string": {
        const inner = unwrap(value);
        const literal = classify(inner);
        if (literal.kind === "opaque") skip(ctx, inner, propPath, literal.reason);
        else if (literal.kind !== "string" && literal.kind !== "interpolated-string") finding(ctx, inner, propPath, "type-mismatch", `expected string, got ${valueKind(literal)}`);
        else ctx.out.checkedValues++;
        break;
      }
      case "typed":
        checkValue(ctx, value, prop.file, prop.ref, propPath, prop.flags);
        break;
    }
  }
  const missing = [...shape.props].filter(([name, prop]) => prop.flags & PropertyFlags.Required && !(prop.flags & PropertyFlags.ReadOnly) && !seen.has(name));
  if (!complete) {
    // A computed or unparsed key might be the missing one.
    if (missing.length > 0) skip(ctx, node, path || "(body)", "required properties of an object with computed or unparsed keys");
    return;
  }
  for (const [name] of missing) finding(ctx, node, childPath(path, name), "required-property", `missing required property '${name}' of ${shape.name}`);
}

/** A hint for a near-miss name (edit distance 1-2), besides the case-only one. */
function nearHint(key: string, names: readonly string[]): string {
  const lower = key.toLowerCase();
  const near = names.filter((name) => editDistance(lower, name.toLowerCase()) <= Math.min(2, Math.floor(key.length / 3)));
  return near.length > 0 ? `; did you mean ${near.map((name) => `'${name}'`).join(" or ")}?` : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function findProperty(object: Node, key: string): { keyNode: Node; value: Node } | undefined {
  for (const child of namedChildren(object)) {
    if (child.type !== "object_property") continue;
    const parts = namedChildren(child).filter((part) => !isTrivia(part));
    const keyNode = parts[0];
    const value = parts.at(-1);
    if (keyNode && value && parts.length >= 2 && keyNode.type !== "resource_declaration" && propertyKey(keyNode) === key) return { keyNode, value };
  }
  return undefined;
}

function hasUnknownKeys(object: Node): boolean {
  return namedChildren(object).some((child) => {
    if (child.type === "ERROR") return true;
    if (child.type !== "object_property") return false;
    const keyNode = namedChildren(child)[0];
    return keyNode !== undefined && keyNode.type !== "resource_declaration" && propertyKey(keyNode) === undefined;
  });
}

/** The element of a discriminated object picked by the literal's discriminator value, merged with the base properties. */
function checkDiscriminated(ctx: Ctx, node: Node, file: TypeFile, type: DiscriminatedObjectTypeNode, path: string, augment: ((shape: Shape) => Shape) | undefined): void {
  const key = type.discriminator;
  const found = findProperty(node, key);
  const choices = Object.keys(type.elements);
  if (!found) {
    if (hasUnknownKeys(node)) skip(ctx, node, path || "(body)", "discriminated object with computed or unparsed keys");
    else finding(ctx, node, childPath(path, key), "required-property", `missing required discriminator '${key}' of ${type.name} (one of ${choices.map((c) => `'${c}'`).join(", ")})`);
    return;
  }
  const discriminator = unwrap(found.value);
  const literal = classify(discriminator);
  if (literal.kind !== "string") {
    skip(ctx, discriminator, childPath(path, key), literal.kind === "opaque" ? `discriminator not a literal (${literal.reason})` : "discriminator not a literal");
    return;
  }
  const elementRef = type.elements[literal.value];
  if (!elementRef) {
    ctx.out.checkedValues++;
    finding(ctx, discriminator, childPath(path, key), "enum", `'${literal.value}' is not one of ${choices.map((c) => `'${c}'`).join(", ")}${caseHint(literal.value, choices)}`);
    return;
  }
  const element = file.resolve(elementRef);
  if (element.$type !== "ObjectType") {
    skip(ctx, node, path, `discriminated element of kind ${element.$type}`);
    return;
  }
  // As the compiler's ToCombinedType: element properties win over base ones of the same name, ignoring case.
  const shape = objectShape(file, element);
  for (const [name, def] of Object.entries(type.baseProperties)) {
    if (![...shape.props.keys()].some((existing) => existing.toLowerCase() === name.toLowerCase())) shape.props.set(name, { kind: "typed", flags: def.flags ?? 0, file, ref: def.type });
  }
  checkObject(ctx, node, augment ? augment(shape) : shape, path);
}

// ---------------------------------------------------------------------------------------------
// Resources

interface ResourceSite {
  readonly file: BicepFile;
  readonly node: Node;
  readonly symbol: string;
  readonly type: string;
  readonly apiVersion: string;
  readonly nested: boolean;
  readonly existing: boolean;
}

function isFullType(type: string): boolean {
  const slash = type.indexOf("/");
  return slash > 0 && type.slice(0, slash).includes(".");
}

function wrapperOf(node: Node): string {
  const value = valueAfterEquals(node);
  if (value?.type === "for_statement") {
    const body = value.childForFieldName("body") ?? namedChildren(value).at(-1);
    return body?.type === "if_statement" ? "loop+condition" : "loop";
  }
  return value?.type === "if_statement" ? "condition" : "";
}

/** The body object of a resource, looking through `[for ...]` and `if (...)`, or the value that is not one. */
function resourceBody(node: Node): Node | undefined {
  let value = valueAfterEquals(node);
  if (value?.type === "for_statement") value = value.childForFieldName("body") ?? namedChildren(value).at(-1);
  if (value?.type === "if_statement") value = namedChildren(value).find((child) => !isTrivia(child) && child.type !== "parenthesized_expression") ?? value;
  return value;
}

function* resourceSites(file: BicepFile): Generator<ResourceSite> {
  const visitDecl = function* (node: Node, parent: ResourceSite | undefined): Generator<ResourceSite> {
    const parts = namedChildren(node);
    const symbolName = parts.find((child) => child.type === "identifier")?.text ?? "?";
    const written = literalString(parts.find((child) => child.type === "string") ?? node) ?? "";
    const [typePart = "", versionPart] = written.split("@");
    const type = parent && !isFullType(typePart) ? `${parent.type}/${typePart}` : typePart;
    const site: ResourceSite = {
      file,
      node,
      symbol: parent ? `${parent.symbol}::${symbolName}` : symbolName,
      type,
      apiVersion: versionPart ?? parent?.apiVersion ?? "",
      nested: parent !== undefined,
      existing: node.children.some((child) => child?.type === "existing"),
    };
    yield site;
    const body = resourceBody(node);
    if (body?.type !== "object") return;
    for (const prop of namedChildren(body)) {
      if (prop.type !== "object_property") continue;
      const nested = namedChildren(prop).find((child) => child.type === "resource_declaration");
      if (nested) yield* visitDecl(nested, site);
    }
  };
  for (const statement of namedChildren(file.root)) {
    if (statement.type === "resource_declaration") yield* visitDecl(statement, undefined);
  }
}

function writableScopes(node: ResourceTypeNode): number {
  if (node.writableScopes !== undefined) return node.writableScopes;
  // Older format: scopeType plus a ReadOnly resource flag (bit 1).
  return (node.flags ?? 0) & 1 ? 0 : (node.scopeType ?? 0);
}

/** The body shape as Bicep builds it from the type data (AzResourceTypeProvider.SetBicepResourceProperties). */
function augmentBody(site: ResourceSite, resolved: ResolvedResourceType, bodyNode: Node): (shape: Shape) => Shape {
  const segments = site.type.split("/").length;
  const hasParent = site.nested || findProperty(bodyNode, "parent") !== undefined;
  // A top-level child resource without `parent` names itself 'parent/child': its name is a plain string.
  const literalNames = segments === 2 || hasParent;
  const writable = writableScopes(resolved.node);
  return (shape) => {
    const props = new Map(shape.props);
    props.set("dependsOn", { kind: "keyword", flags: PropertyFlags.WriteOnly });
    props.set("asserts", { kind: "keyword", flags: 0 });
    // Only extension and tenant resources take `scope` (ScopeHelper.TryCreateNonExistingResourceScopeProperty).
    if (writable & (Scope.Extension | Scope.Tenant)) props.set("scope", { kind: "keyword", flags: PropertyFlags.WriteOnly });
    if (segments > 2 && !site.nested) props.set("parent", { kind: "keyword", flags: PropertyFlags.WriteOnly });
    const name = props.get("name");
    if (name && !literalNames) props.set("name", { kind: "string", flags: name.flags });
    for (const generic of GENERIC_TOP_LEVEL) {
      if (!props.has(generic)) props.set(generic, { kind: "fallback", flags: 0 });
    }
    return { ...shape, props };
  };
}

function checkResource(site: ResourceSite, library: BicepTypeLibrary, out: Collector, patterns: Map<string, string>): CheckedResource {
  const ctx: Ctx = { file: site.file, symbol: site.symbol, out, patterns };
  const anchor = namedChildren(site.node).find((child) => child.type === "string") ?? site.node;
  const resolved = site.type && site.apiVersion ? library.lookup(site.type, site.apiVersion) : undefined;
  const base = {
    file: site.file.rel,
    line: site.node.startPosition.row + 1,
    symbol: site.symbol,
    type: site.type,
    apiVersion: site.apiVersion,
    resolved: resolved?.name,
    typesFile: resolved?.file.rel,
    existing: site.existing,
    wrapper: wrapperOf(site.node),
  };
  if (!resolved && !site.apiVersion) {
    finding(ctx, anchor, "", "unknown-type", `'${site.type}' has no apiVersion (expected type@apiVersion)`);
    return { ...base, bodyChecked: false };
  }
  if (!resolved) {
    const versions = site.type ? library.versionsOf(site.type) : [];
    const known = versions.length > 0 ? `vendored apiVersions of this type: ${versions.join(", ")}` : "no apiVersion of this type is vendored";
    finding(ctx, anchor, "", "unknown-type", `no vendored type data has ${site.type}@${site.apiVersion} (${known})`);
    return { ...base, bodyChecked: false };
  }
  // An existing resource only names what is there: its body is not data the compiler checks against the type.
  if (site.existing) return { ...base, bodyChecked: false };
  if (writableScopes(resolved.node) === 0) {
    finding(ctx, anchor, "", "read-only-type", `${resolved.name} can only be referenced as existing (the type data has no writable scope)`);
    return { ...base, bodyChecked: false };
  }
  const bodyNode = resourceBody(site.node);
  if (!bodyNode || bodyNode.type !== "object") {
    if (bodyNode) skip(ctx, bodyNode, "(body)", `resource body that is not an object literal (${bodyNode.type})`);
    return { ...base, bodyChecked: false };
  }
  const bodyType = resolved.file.resolve(resolved.node.body);
  const augment = augmentBody(site, resolved, bodyNode);
  if (bodyType.$type === "ObjectType") {
    checkObject(ctx, bodyNode, augment(objectShape(resolved.file, bodyType)), "");
  } else if (bodyType.$type === "DiscriminatedObjectType") {
    const literalNames = site.type.split("/").length === 2 || site.nested || findProperty(bodyNode, "parent") !== undefined;
    if (bodyType.discriminator === "name" && !literalNames) {
      skip(ctx, bodyNode, "(body)", "top-level child resource whose type is discriminated by its name");
      return { ...base, bodyChecked: false };
    }
    checkDiscriminated(ctx, bodyNode, resolved.file, bodyType, "", augment);
  } else {
    skip(ctx, bodyNode, "(body)", `resource body of kind ${bodyType.$type}`);
    return { ...base, bodyChecked: false };
  }
  return { ...base, bodyChecked: true };
}

/** Checks every resource declaration (nested ones included) of the files against the type data. */
export function checkBicepTypes(files: readonly BicepFile[], library: BicepTypeLibrary = vendoredTypes()): TypeCheckReport {
  const out = new Collector();
  const patterns = new Map<string, string>();
  const resources: CheckedResource[] = [];
  for (const file of files) {
    for (const site of resourceSites(file)) resources.push(checkResource(site, library, out, patterns));
  }
  return { findings: out.findings, resources, skips: out.skips, checkedValues: out.checkedValues, skippedPatterns: patterns };
}
