// Azure Resource Manager ids: parse, validate and format the ids this app handles.
// ARM compares ids case-insensitively and real traffic mixes casings (`resourcegroups` in
// Microsoft's own event samples, upper-cased resource groups in list results), so segment
// names match in any case; names keep the caller's casing except subscription GUIDs, which
// are lower-cased so equal ids compare equal.

import { DomainValidationError, GUID_PATTERN, quoteForError, type FieldError } from "./validation";

interface ResourceGroupRef {
  subscriptionId: string;
  resourceGroup: string;
}
interface GalleryRef extends ResourceGroupRef {
  gallery: string;
}
export interface ImageVersionRef extends GalleryRef {
  image: string;
  version: string;
}
interface SubnetRef extends ResourceGroupRef {
  virtualNetwork: string;
  subnet: string;
}

type Field = "subscriptionId" | "resourceGroup" | "gallery" | "image" | "version" | "virtualNetwork" | "subnet";

interface NameRule {
  test(value: string): boolean;
  rule: string;
}

const INT32_MAX = 2147483647;

function pattern(re: RegExp, rule: string): NameRule {
  return { test: (value) => re.test(value), rule };
}

// Naming rules from Azure's resource naming docs and the GalleryRP/common-types swagger.
export const NAME_RULES: Readonly<Record<Field, NameRule>> = {
  subscriptionId: pattern(GUID_PATTERN, "must be a GUID"),
  resourceGroup: {
    // \p{L}\p{N}: ARM allows Unicode letters and digits here.
    test: (v) => v.length <= 90 && /^[-\p{L}\p{N}_.()]+$/u.test(v) && !v.endsWith("."),
    rule: "must be 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
  },
  gallery: pattern(/^[A-Za-z0-9](?:[A-Za-z0-9._]{0,78}[A-Za-z0-9])?$/, "must be 1-80 letters, digits, '.' or '_', starting and ending with a letter or digit"),
  image: pattern(
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$/,
    "must be 1-80 letters, digits, '-', '.' or '_', starting and ending with a letter or digit",
  ),
  version: {
    test: (v) => {
      const m = /^(\d{1,10})\.(\d{1,10})\.(\d{1,10})$/.exec(v);
      return m !== null && m.slice(1).every((part) => Number(part) <= INT32_MAX);
    },
    rule: "must be major.minor.patch: three whole numbers from 0 to 2147483647",
  },
  virtualNetwork: pattern(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9_]$/,
    "must be 2-64 letters, digits, '-', '.' or '_', starting with a letter or digit and ending with a letter, digit or '_'",
  ),
  subnet: pattern(
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$/,
    "must be 1-80 letters, digits, '-', '.' or '_', starting with a letter or digit and ending with a letter, digit or '_'",
  ),
};

type Token<F extends Field> = string | { field: F };

interface Template<F extends Field> {
  /** "gallery resource id": used in messages. */
  noun: string;
  /** Alternating segment names (canonical casing) and fields. */
  tokens: readonly Token<F>[];
}

const f = <F extends Field>(field: F): { field: F } => ({ field });
const template = <F extends Field>(noun: string, tokens: readonly Token<F>[]): Template<F> => ({ noun, tokens });

type RgF = "subscriptionId" | "resourceGroup";
const RESOURCE_GROUP_TOKENS: readonly Token<RgF>[] = ["subscriptions", f("subscriptionId"), "resourceGroups", f("resourceGroup")];
const GALLERY = template<RgF | "gallery">("gallery resource id", [...RESOURCE_GROUP_TOKENS, "providers", "Microsoft.Compute", "galleries", f("gallery")]);
const IMAGE_VERSION = template<RgF | "gallery" | "image" | "version">("image version id", [...GALLERY.tokens, "images", f("image"), "versions", f("version")]);
const SUBNET = template<RgF | "virtualNetwork" | "subnet">("subnet id", [
  ...RESOURCE_GROUP_TOKENS,
  "providers",
  "Microsoft.Network",
  "virtualNetworks",
  f("virtualNetwork"),
  "subnets",
  f("subnet"),
]);

const TEMPLATES = { gallery: GALLERY, imageVersion: IMAGE_VERSION, subnet: SUBNET } as const;

export type ResourceIdKind = keyof typeof TEMPLATES;

function shape(t: Template<Field>): string {
  return "/" + t.tokens.map((tok) => (typeof tok === "string" ? tok : `{${tok.field}}`)).join("/");
}

function withArticle(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function structureRule(t: Template<Field>): string {
  return `must be ${withArticle(t.noun)} like ${shape(t)}`;
}

/** Splits an id into segments; one trailing slash is tolerated, as ARM does. */
function segmentsOf(id: string): string[] | undefined {
  if (!id.startsWith("/")) return undefined;
  const trimmed = id.endsWith("/") ? id.slice(0, -1) : id;
  return trimmed.slice(1).split("/");
}

type Match<F extends Field> = { ok: true; values: Record<F, string> } | { ok: false; errors: FieldError[] };

function match<F extends Field>(t: Template<F>, id: unknown): Match<F> {
  const structural: Match<F> = { ok: false, errors: [{ path: "", rule: structureRule(t) }] };
  if (typeof id !== "string") return structural;
  const segments = segmentsOf(id);
  if (segments === undefined || segments.length !== t.tokens.length) return structural;
  const values: Partial<Record<F, string>> = {};
  const errors: FieldError[] = [];
  for (const [i, tok] of t.tokens.entries()) {
    const segment = segments[i] ?? "";
    if (typeof tok === "string") {
      if (segment.toLowerCase() !== tok.toLowerCase()) return structural;
      continue;
    }
    const rule = NAME_RULES[tok.field];
    if (!rule.test(segment)) errors.push({ path: tok.field, rule: rule.rule });
    values[tok.field] = tok.field === "subscriptionId" ? segment.toLowerCase() : segment;
  }
  if (errors.length > 0) return { ok: false, errors };
  // Every field token was visited above, so the record is complete.
  return { ok: true, values: values as Record<F, string> };
}

function parseWith<F extends Field>(t: Template<F>, id: unknown): Record<F, string> {
  const m = match(t, id);
  if (m.ok) return m.values;
  const shown = typeof id === "string" ? ` ${quoteForError(id)}` : "";
  throw new DomainValidationError(`invalid ${t.noun}${shown}`, m.errors);
}

function formatWith<F extends Field>(t: Template<F>, ref: Readonly<Record<F, string>>): string {
  const errors: FieldError[] = [];
  const parts = t.tokens.map((tok) => {
    if (typeof tok === "string") return tok;
    const value = ref[tok.field];
    const rule = NAME_RULES[tok.field];
    if (typeof value !== "string" || !rule.test(value)) errors.push({ path: tok.field, rule: rule.rule });
    return tok.field === "subscriptionId" ? String(value).toLowerCase() : String(value);
  });
  if (errors.length > 0) throw new DomainValidationError(`cannot format ${withArticle(t.noun)}`, errors);
  return "/" + parts.join("/");
}

/**
 * Checks an id without throwing, for schemas that embed ids in a field: undefined when valid,
 * else one rule such as "must be a gallery resource id: subscriptionId must be a GUID".
 */
export function resourceIdIssue(kind: ResourceIdKind, id: unknown): string | undefined {
  const t: Template<Field> = TEMPLATES[kind];
  const m = match(t, id);
  if (m.ok) return undefined;
  const first = m.errors[0];
  if (m.errors.length === 1 && first?.path === "") return first.rule;
  return `must be ${withArticle(t.noun)}: ${m.errors.map((e) => `${e.path} ${e.rule}`).join("; ")}`;
}

export function parseGalleryId(id: string): GalleryRef {
  const v = parseWith(GALLERY, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, gallery: v.gallery };
}

export function parseImageVersionId(id: string): ImageVersionRef {
  const v = parseWith(IMAGE_VERSION, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, gallery: v.gallery, image: v.image, version: v.version };
}

export function parseSubnetId(id: string): SubnetRef {
  const v = parseWith(SUBNET, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, virtualNetwork: v.virtualNetwork, subnet: v.subnet };
}

export const formatGalleryId = (ref: GalleryRef): string => formatWith(GALLERY, ref);
export const formatImageVersionId = (ref: ImageVersionRef): string => formatWith(IMAGE_VERSION, ref);
export const formatSubnetId = (ref: SubnetRef): string => formatWith(SUBNET, ref);

/** Lower-case, no trailing slash: the form to compare ids and derive deterministic instance ids from. */
export function normalizeResourceId(id: string): string {
  return foldCase(id.trim()).replace(/\/+$/, "");
}

/**
 * Case folding as ARM compares ids (ordinal, ignoring case, one character at a time): ASCII letters
 * lower-case, other characters by their simple upper-case mapping. JavaScript's toLowerCase would
 * fold U+212A KELVIN SIGN into "k" and U+2126 OHM SIGN into "ω", which ARM keeps apart.
 */
function foldCase(text: string): string {
  let out = "";
  for (const ch of text) {
    if (ch < "\u0080") out += ch.toLowerCase();
    else {
      const upper = ch.toUpperCase();
      out += upper.length === ch.length ? upper : ch;
    }
  }
  return out;
}

export function sameResourceId(a: string, b: string): boolean {
  return normalizeResourceId(a) === normalizeResourceId(b);
}
