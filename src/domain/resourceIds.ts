// Azure Resource Manager ids: parse, validate and format the ids this app handles.
// ARM compares ids case-insensitively and real traffic mixes casings (`resourcegroups` in
// Microsoft's own event samples, upper-cased resource groups in list results), so segment
// names match in any case; names keep the caller's casing except subscription GUIDs, which
// are lower-cased so equal ids compare equal.

import { DomainValidationError, GUID_PATTERN, quoteForError, type FieldError } from "./validation";

export interface SubscriptionRef { subscriptionId: string }
export interface ResourceGroupRef extends SubscriptionRef { resourceGroup: string }
export interface GalleryRef extends ResourceGroupRef { gallery: string }
export interface ImageDefinitionRef extends GalleryRef { image: string }
export interface ImageVersionRef extends ImageDefinitionRef { version: string }
export interface VirtualMachineRef extends ResourceGroupRef { vm: string }
export interface NetworkInterfaceRef extends ResourceGroupRef { nic: string }
export interface SubnetRef extends ResourceGroupRef { virtualNetwork: string; subnet: string }
/** What a consumer puts in `imageReference.sharedGalleryImageId` (direct sharing). */
export interface SharedGalleryImageVersionRef { uniqueName: string; image: string; version: string }

type Field =
  | "subscriptionId" | "resourceGroup" | "gallery" | "image" | "version"
  | "vm" | "nic" | "virtualNetwork" | "subnet" | "uniqueName";

interface NameRule { test(value: string): boolean; rule: string }

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
  gallery: pattern(
    /^[A-Za-z0-9](?:[A-Za-z0-9._]{0,78}[A-Za-z0-9])?$/,
    "must be 1-80 letters, digits, '.' or '_', starting and ending with a letter or digit",
  ),
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
  vm: pattern(
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?$/,
    "must be 1-64 letters, digits, '-', '.' or '_', starting with a letter or digit and not ending in '.' or '-'",
  ),
  nic: pattern(
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$/,
    "must be 1-80 letters, digits, '-', '.' or '_', starting with a letter or digit and ending with a letter, digit or '_'",
  ),
  virtualNetwork: pattern(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9_]$/,
    "must be 2-64 letters, digits, '-', '.' or '_', starting with a letter or digit and ending with a letter, digit or '_'",
  ),
  subnet: pattern(
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$/,
    "must be 1-80 letters, digits, '-', '.' or '_', starting with a letter or digit and ending with a letter, digit or '_'",
  ),
  // `<subscriptionId>-<GALLERY NAME>` in real traffic; only the character set is relied on.
  uniqueName: pattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be 1-128 letters, digits, '-', '.' or '_'"),
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

const SUBSCRIPTION = template("subscription id", ["subscriptions", f("subscriptionId")]);
type RgF = "subscriptionId" | "resourceGroup";
const RESOURCE_GROUP = template<RgF>("resource group id", [...SUBSCRIPTION.tokens, "resourceGroups", f("resourceGroup")]);
const GALLERY = template<RgF | "gallery">("gallery resource id", [...RESOURCE_GROUP.tokens, "providers", "Microsoft.Compute", "galleries", f("gallery")]);
const IMAGE_DEFINITION = template<RgF | "gallery" | "image">("image definition id", [...GALLERY.tokens, "images", f("image")]);
const IMAGE_VERSION = template<RgF | "gallery" | "image" | "version">("image version id", [...IMAGE_DEFINITION.tokens, "versions", f("version")]);
const VIRTUAL_MACHINE = template<RgF | "vm">("virtual machine id", [...RESOURCE_GROUP.tokens, "providers", "Microsoft.Compute", "virtualMachines", f("vm")]);
const NETWORK_INTERFACE = template<RgF | "nic">("network interface id", [...RESOURCE_GROUP.tokens, "providers", "Microsoft.Network", "networkInterfaces", f("nic")]);
const SUBNET = template<RgF | "virtualNetwork" | "subnet">("subnet id", [...RESOURCE_GROUP.tokens, "providers", "Microsoft.Network", "virtualNetworks", f("virtualNetwork"), "subnets", f("subnet")]);
const SHARED_GALLERY_IMAGE_VERSION = template("shared gallery image version id", ["SharedGalleries", f("uniqueName"), "Images", f("image"), "Versions", f("version")]);

const TEMPLATES = {
  subscription: SUBSCRIPTION,
  resourceGroup: RESOURCE_GROUP,
  gallery: GALLERY,
  imageDefinition: IMAGE_DEFINITION,
  imageVersion: IMAGE_VERSION,
  virtualMachine: VIRTUAL_MACHINE,
  networkInterface: NETWORK_INTERFACE,
  subnet: SUBNET,
  sharedGalleryImageVersion: SHARED_GALLERY_IMAGE_VERSION,
} as const;

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

export function parseSubscriptionId(id: string): SubscriptionRef {
  const v = parseWith(SUBSCRIPTION, id);
  return { subscriptionId: v.subscriptionId };
}

export function parseResourceGroupId(id: string): ResourceGroupRef {
  const v = parseWith(RESOURCE_GROUP, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup };
}

export function parseGalleryId(id: string): GalleryRef {
  const v = parseWith(GALLERY, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, gallery: v.gallery };
}

export function parseImageDefinitionId(id: string): ImageDefinitionRef {
  const v = parseWith(IMAGE_DEFINITION, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, gallery: v.gallery, image: v.image };
}

export function parseImageVersionId(id: string): ImageVersionRef {
  const v = parseWith(IMAGE_VERSION, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, gallery: v.gallery, image: v.image, version: v.version };
}

export function parseVirtualMachineId(id: string): VirtualMachineRef {
  const v = parseWith(VIRTUAL_MACHINE, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, vm: v.vm };
}

export function parseNetworkInterfaceId(id: string): NetworkInterfaceRef {
  const v = parseWith(NETWORK_INTERFACE, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, nic: v.nic };
}

export function parseSubnetId(id: string): SubnetRef {
  const v = parseWith(SUBNET, id);
  return { subscriptionId: v.subscriptionId, resourceGroup: v.resourceGroup, virtualNetwork: v.virtualNetwork, subnet: v.subnet };
}

export function parseSharedGalleryImageVersionId(id: string): SharedGalleryImageVersionRef {
  const v = parseWith(SHARED_GALLERY_IMAGE_VERSION, id);
  return { uniqueName: v.uniqueName, image: v.image, version: v.version };
}

export const formatSubscriptionId = (ref: SubscriptionRef): string => formatWith(SUBSCRIPTION, ref);
export const formatResourceGroupId = (ref: ResourceGroupRef): string => formatWith(RESOURCE_GROUP, ref);
export const formatGalleryId = (ref: GalleryRef): string => formatWith(GALLERY, ref);
export const formatImageDefinitionId = (ref: ImageDefinitionRef): string => formatWith(IMAGE_DEFINITION, ref);
export const formatImageVersionId = (ref: ImageVersionRef): string => formatWith(IMAGE_VERSION, ref);
export const formatVirtualMachineId = (ref: VirtualMachineRef): string => formatWith(VIRTUAL_MACHINE, ref);
export const formatNetworkInterfaceId = (ref: NetworkInterfaceRef): string => formatWith(NETWORK_INTERFACE, ref);
export const formatSubnetId = (ref: SubnetRef): string => formatWith(SUBNET, ref);
export const formatSharedGalleryImageVersionId = (ref: SharedGalleryImageVersionRef): string =>
  formatWith(SHARED_GALLERY_IMAGE_VERSION, ref);

/** Lower-case, no trailing slash: the form to compare ids and derive deterministic instance ids from. */
export function normalizeResourceId(id: string): string {
  return id.trim().toLowerCase().replace(/\/+$/, "");
}

export function sameResourceId(a: string, b: string): boolean {
  return normalizeResourceId(a) === normalizeResourceId(b);
}

/**
 * A role assignment scope. For a nested resource, `resourceType` and `name` join the levels
 * with "/" as ARM templates do: `galleries/images` and `myGallery/myImage`.
 */
export interface RoleAssignmentScope {
  kind: "subscription" | "resourceGroup" | "resource";
  subscriptionId: string;
  resourceGroup?: string;
  /** Resource provider namespace, e.g. `Microsoft.Compute`. */
  provider?: string;
  resourceType?: string;
  name?: string;
}

const SCOPE_SHAPE =
  "must be a subscription, resource group or resource scope like /subscriptions/{subscriptionId}[/resourceGroups/{resourceGroup}][/providers/{namespace}/{type}/{name}...]";
const PROVIDER_NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+$/;
const RESOURCE_TYPE = /^[A-Za-z][A-Za-z0-9]*$/;
// ARM resource names never contain these; anything else is left to the provider to judge.
const RESOURCE_NAME = /^[^<>%&:\\?/*#]{1,260}$/;

/** Parses any ARM scope at or below a subscription; management-group and extension scopes are rejected. */
export function parseRoleAssignmentScope(scope: string): RoleAssignmentScope {
  const fail = (errors: FieldError[]): never => {
    throw new DomainValidationError(`invalid role assignment scope ${quoteForError(String(scope))}`, errors);
  };
  const segments = typeof scope === "string" ? segmentsOf(scope) : undefined;
  if (segments === undefined || segments.length < 2 || segments[0]?.toLowerCase() !== "subscriptions") {
    return fail([{ path: "", rule: SCOPE_SHAPE }]);
  }
  const errors: FieldError[] = [];
  const subscriptionId = (segments[1] ?? "").toLowerCase();
  if (!NAME_RULES.subscriptionId.test(subscriptionId)) errors.push({ path: "subscriptionId", rule: NAME_RULES.subscriptionId.rule });

  let rest = segments.slice(2);
  let resourceGroup: string | undefined;
  if (rest[0]?.toLowerCase() === "resourcegroups") {
    resourceGroup = rest[1] ?? "";
    if (!NAME_RULES.resourceGroup.test(resourceGroup)) errors.push({ path: "resourceGroup", rule: NAME_RULES.resourceGroup.rule });
    rest = rest.slice(2);
  }
  if (rest.length === 0) {
    if (errors.length > 0) return fail(errors);
    return resourceGroup === undefined ? { kind: "subscription", subscriptionId } : { kind: "resourceGroup", subscriptionId, resourceGroup };
  }

  // providers/{namespace} followed by one or more {type}/{name} pairs.
  const [providersKeyword, provider = "", ...pairs] = rest;
  if (providersKeyword?.toLowerCase() !== "providers" || pairs.length === 0 || pairs.length % 2 !== 0) {
    return fail([{ path: "", rule: SCOPE_SHAPE }]);
  }
  if (!PROVIDER_NAMESPACE.test(provider)) errors.push({ path: "provider", rule: "must be a resource provider namespace like Microsoft.Compute" });
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    const type = pairs[i] ?? "";
    const name = pairs[i + 1] ?? "";
    if (type.toLowerCase() === "providers") {
      errors.push({ path: "", rule: "extension resource scopes (a second /providers/ segment) are not supported" });
      break;
    }
    if (!RESOURCE_TYPE.test(type)) errors.push({ path: "resourceType", rule: `${quoteForError(type)} must be letters and digits starting with a letter` });
    if (!RESOURCE_NAME.test(name)) errors.push({ path: "name", rule: `${quoteForError(name)} must be 1-260 characters without < > % & : \\ ? * #` });
    types.push(type);
    names.push(name);
  }
  if (errors.length > 0) return fail(errors);
  return {
    kind: "resource",
    subscriptionId,
    ...(resourceGroup === undefined ? {} : { resourceGroup }),
    provider,
    resourceType: types.join("/"),
    name: names.join("/"),
  };
}
