// Tenant onboarding and offboarding requests (Service Bus or HTTP), version 1.
// Strict: an unknown field is an error, not silently dropped, because a misspelt optional field
// ("subscriptionID") would otherwise change what gets shared. GUIDs come out lower-case and
// resource ids in canonical casing, so later comparisons and instance ids are stable.

import { z } from "zod";
import {
  NAME_RULES,
  formatGalleryId,
  formatSubnetId,
  normalizeResourceId,
  parseGalleryId,
  parseSubnetId,
  resourceIdIssue,
  sameResourceId,
  type ResourceIdKind,
} from "./resourceIds";
import { MAX_ROLLOUT_RINGS } from "./rollout";
import { PRINCIPAL_TYPES, SHARING_MODES, type PrincipalType, type SharingMode } from "./tenantModel";
import { GUID_PATTERN, isObject, quoteForError, readableTextIssue, type FieldError } from "./validation";
import { parseWithSchema } from "./zodIssues";

/** principal mode: Reader on each gallery for a person, a group or a service principal (B2B guests included). */
interface PrincipalTarget {
  objectId: string;
  type: PrincipalType;
}

/** Where the consumer deploys: needed for rbac mode (the app's Contributor scope) and for any VM. */
interface ConsumerTarget {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
}

interface VmRequest {
  /** Image definition name in the shared gallery. */
  image: string;
  /** "latest" or major.minor.patch. */
  version: string;
  size: string;
  subnetId: string;
  adminUsername: string;
  /** An OpenSSH public key: not a secret. */
  sshPublicKey: string;
  /** Rebuild this VM on each newly shared version of the image (a canary); needs version "latest". Default false. */
  updateOnPublish?: boolean;
}

/** A scale set: the VM fields, plus how it is orchestrated and how many instances it runs. */
interface VmssRequest extends VmRequest {
  /** Default "Uniform", as in ARM; fixed once the scale set exists. */
  orchestrationMode?: "Uniform" | "Flexible";
  /** Default 2. */
  instanceCount?: number;
  /** How instances move to a new model: Automatic (all at once, default) or Manual (when you upgrade them). */
  upgradePolicy?: "Automatic" | "Manual";
}

/**
 * Onboard a consumer tenant. Example:
 * ```json
 * {
 *   "schema": "onboarding/v1",
 *   "requestId": "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f",
 *   "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
 *   "displayName": "Contoso",
 *   "mode": "direct",
 *   "subscriptionIds": ["0b1f6471-1bf0-4dda-aec3-cb9272f09590"],
 *   "galleries": ["/subscriptions/…/resourceGroups/publisher-rg/providers/Microsoft.Compute/galleries/golden"],
 *   "consumer": { "subscriptionId": "0b1f6471-1bf0-4dda-aec3-cb9272f09590", "resourceGroup": "contoso-vms", "location": "eastus" },
 *   "vm": {
 *     "image": "ubuntu-22.04", "version": "latest", "size": "Standard_D2s_v5",
 *     "subnetId": "/subscriptions/…/resourceGroups/contoso-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default",
 *     "adminUsername": "azureuser", "sshPublicKey": "ssh-ed25519 AAAAC3Nza… user@host"
 *   }
 * }
 * ```
 * `vmss` takes the `vm` fields plus `orchestrationMode` ("Uniform" | "Flexible"), `instanceCount` (0-1000, default 2)
 * and `upgradePolicy` ("Automatic" | "Manual"). `updateOnPublish: true` (version "latest" only) moves the VM or
 * scale set to each newly shared version of its image.
 * `subscriptionIds` only in direct mode; `consumer` is required in rbac mode and whenever `vm` or `vmss` is given;
 * `principal` (`{ objectId, type: "User" | "Group" | "ServicePrincipal" }`) is required in principal mode and only there.
 * `ring` (0-9) places the tenant's VMs and scale sets in a rollout ring: 0 are the canaries, moved first.
 */
export interface OnboardingV1 {
  schema: "onboarding/v1";
  requestId: string;
  tenantId: string;
  displayName: string;
  mode: SharingMode;
  subscriptionIds?: string[];
  principal?: PrincipalTarget;
  galleries: string[];
  consumer?: ConsumerTarget;
  vm?: VmRequest;
  vmss?: VmssRequest;
  /** The rollout ring of the tenant's VMs and scale sets: 0 are the canaries; default the last ring (ROLLOUT_RINGS). */
  ring?: number;
}

/**
 * Offboard a consumer tenant: from the listed galleries, or from all when `galleries` is absent.
 * ```json
 * { "schema": "offboarding/v1", "requestId": "9a0c…", "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47" }
 * ```
 */
export interface OffboardingV1 {
  schema: "offboarding/v1";
  requestId: string;
  tenantId: string;
  galleries?: string[];
}

export type TenantMessage = OnboardingV1 | OffboardingV1;

const TENANT_MESSAGE_SCHEMAS = ["onboarding/v1", "offboarding/v1"] as const;

const guid = (rule: string) =>
  z
    .string()
    .regex(GUID_PATTERN, { error: rule })
    .transform((s) => s.toLowerCase());

/** A resource id field, returned in canonical casing. */
const resourceId = (kind: ResourceIdKind, canonical: (id: string) => string) =>
  z.string().transform((id, ctx) => {
    const issue = resourceIdIssue(kind, id);
    if (issue === undefined) return canonical(id);
    ctx.issues.push({ code: "custom", message: issue, input: id });
    return z.NEVER;
  });

const named = (rule: { test(value: string): boolean; rule: string }) => z.string().refine((v) => rule.test(v), { error: rule.rule });

/** Rejects repeated entries (compared case-insensitively), pointing at the repeat. */
function noRepeats(values: string[], ctx: z.core.$RefinementCtx<string[]>): void {
  const seen = new Map<string, number>();
  values.forEach((value, i) => {
    const key = normalizeResourceId(value);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else ctx.addIssue({ code: "custom", path: [i], message: `repeats entry [${first}]` });
  });
}

/**
 * Galleries one request may name. The tenant's record lists them in one Table storage property
 * (at most 64 KiB): 50 long gallery ids stay far inside it, and an app manages far fewer.
 */
export const MAX_GALLERIES_PER_REQUEST = 50;

const galleryList = z
  .array(resourceId("gallery", (id) => formatGalleryId(parseGalleryId(id))))
  .min(1, { error: "must list at least one gallery" })
  .max(MAX_GALLERIES_PER_REQUEST, { error: `must list at most ${MAX_GALLERIES_PER_REQUEST} galleries` })
  .superRefine(noRepeats);

// Azure refuses these Linux admin user names.
const RESERVED_USER_NAMES = new Set([
  "administrator",
  "admin",
  "user",
  "user1",
  "test",
  "user2",
  "test1",
  "user3",
  "admin1",
  "1",
  "123",
  "a",
  "actuser",
  "adm",
  "admin2",
  "aspnet",
  "backup",
  "console",
  "david",
  "guest",
  "john",
  "owner",
  "root",
  "server",
  "sql",
  "support",
  "support_388945a0",
  "sys",
  "test2",
  "test3",
  "user4",
  "user5",
]);

const vmFields = {
  image: named(NAME_RULES.image),
  version: z.string().refine((v) => v === "latest" || NAME_RULES.version.test(v), {
    error: 'must be "latest" or major.minor.patch: three whole numbers from 0 to 2147483647',
  }),
  size: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, { error: "must be a VM size name like Standard_D2s_v5" }),
  subnetId: resourceId("subnet", (id) => formatSubnetId(parseSubnetId(id))),
  adminUsername: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, { error: "must be 1-64 letters, digits, '_' or '-', not starting with a digit or '-'" })
    .refine((v) => !RESERVED_USER_NAMES.has(v.toLowerCase()), { error: "is a name Azure reserves (admin, root, …): choose another" }),
  sshPublicKey: z
    .string()
    .trim()
    .max(8192, { error: "must be at most 8192 characters" })
    .regex(/^ssh-[A-Za-z0-9-]+ [A-Za-z0-9+/]+={0,3}(?: [^\r\n]*)?$/, {
      error: "must be an OpenSSH public key starting with ssh- (one line: type, base64 key, optional comment)",
    }),
  updateOnPublish: z.boolean().optional(),
};

const vmSchema = z.strictObject(vmFields);

const vmssSchema = z.strictObject({
  ...vmFields,
  orchestrationMode: z.enum(["Uniform", "Flexible"]).optional(),
  instanceCount: z
    .number()
    .int({ error: "must be a whole number" })
    .min(0, { error: "must be at least 0" })
    .max(1000, { error: "must be at most 1000 (a scale set's limit with gallery images)" })
    .optional(),
  upgradePolicy: z.enum(["Automatic", "Manual"]).optional(),
});

const consumerSchema = z.strictObject({
  subscriptionId: guid("must be a GUID"),
  resourceGroup: named(NAME_RULES.resourceGroup),
  location: z.string().regex(/^[A-Za-z][A-Za-z0-9 ]{0,63}$/, { error: "must be an Azure region name like eastus" }),
});

const onboardingV1Schema: z.ZodType<OnboardingV1> = z.strictObject({
  schema: z.literal("onboarding/v1"),
  requestId: guid("must be a UUID"),
  tenantId: guid("must be a GUID"),
  displayName: z
    .string()
    .trim()
    .min(1, { error: "must not be empty" })
    .max(256, { error: "must be at most 256 characters" })
    .superRefine((value, ctx) => {
      const issue = value === "" ? undefined : readableTextIssue(value);
      if (issue) ctx.addIssue({ code: "custom", message: issue });
    }),
  mode: z.enum(SHARING_MODES),
  principal: z
    .strictObject({ objectId: guid("must be a GUID (the object id of the user, group or service principal)"), type: z.enum(PRINCIPAL_TYPES) })
    .optional(),
  subscriptionIds: z.array(guid("must be a GUID")).min(1, { error: "must list at least one subscription when given" }).superRefine(noRepeats).optional(),
  galleries: galleryList,
  consumer: consumerSchema.optional(),
  vm: vmSchema.optional(),
  vmss: vmssSchema.optional(),
  ring: z
    .number({ error: "must be a whole number" })
    .int({ error: "must be a whole number" })
    .min(0, { error: "must be from 0 to 9 (0: the canaries)" })
    .max(MAX_ROLLOUT_RINGS - 1, { error: "must be from 0 to 9 (0: the canaries)" })
    .optional(),
});

const offboardingV1Schema: z.ZodType<OffboardingV1> = z.strictObject({
  schema: z.literal("offboarding/v1"),
  requestId: guid("must be a UUID"),
  tenantId: guid("must be a GUID"),
  galleries: galleryList.optional(),
});

/**
 * Rules that tie fields together. Checked on the raw input next to the schema, so a message
 * with both a bad field and a missing consumer gets both errors at once.
 */
function onboardingCrossFieldErrors(raw: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const through: Record<string, string> = { rbac: "the consumer resource group", principal: "Reader on the gallery for the principal" };
  if (typeof raw.mode === "string" && raw.mode in through && raw.subscriptionIds !== undefined) {
    errors.push({ path: "subscriptionIds", rule: `is only allowed when mode is "direct" (${raw.mode} mode grants access through ${through[raw.mode]})` });
  }
  if (raw.mode === "principal" && raw.principal === undefined) errors.push({ path: "principal", rule: 'is required when mode is "principal"' });
  if (raw.mode !== "principal" && raw.principal !== undefined) errors.push({ path: "principal", rule: 'is only allowed when mode is "principal"' });
  if (raw.consumer === undefined) {
    if (raw.mode === "rbac") errors.push({ path: "consumer", rule: 'is required when mode is "rbac"' });
    else if (raw.vm !== undefined || raw.vmss !== undefined)
      errors.push({ path: "consumer", rule: `is required when ${raw.vm !== undefined ? "vm" : "vmss"} is given` });
  }
  for (const field of ["vm", "vmss"] as const) {
    const w = raw[field];
    if (!isObject(w)) continue;
    if (raw.mode === "principal")
      errors.push({
        path: field,
        rule: 'is only allowed when mode is "direct" or "rbac" (principal mode grants a person or group Reader, nothing is deployed)',
      });
    if (w.updateOnPublish === true && w.version !== "latest")
      errors.push({ path: `${field}.updateOnPublish`, rule: 'needs version "latest": a pinned version is never moved' });
  }
  return errors;
}

type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const NOT_AN_OBJECT: FieldError[] = [{ path: "", rule: "must be a JSON object" }];

function checkOnboarding(raw: unknown): ParseResult<OnboardingV1> {
  if (!isObject(raw)) return { ok: false, errors: NOT_AN_OBJECT };
  const parsed = parseWithSchema(onboardingV1Schema, raw);
  const errors = [...(parsed.ok ? [] : parsed.errors), ...onboardingCrossFieldErrors(raw)];
  return parsed.ok && errors.length === 0 ? parsed : { ok: false, errors };
}

function checkOffboarding(raw: unknown): ParseResult<OffboardingV1> {
  if (!isObject(raw)) return { ok: false, errors: NOT_AN_OBJECT };
  return parseWithSchema(offboardingV1Schema, raw);
}

/**
 * Parses either message, dispatching on `schema`. With `managedGalleries` (GALLERY_IDS), an
 * onboarding that names a gallery the app does not manage is refused up front, naming it.
 */
export function parseTenantMessage(raw: unknown, managedGalleries?: readonly string[]): ParseResult<TenantMessage> {
  const parsed = parseAnyTenantMessage(raw);
  if (!parsed.ok || !managedGalleries || parsed.value.schema !== "onboarding/v1") return parsed;
  const errors = parsed.value.galleries.flatMap((id, i) =>
    managedGalleries.some((managed) => sameResourceId(managed, id))
      ? []
      : [{ path: `galleries[${i}]`, rule: "is not a gallery this app manages (GALLERY_IDS)" }],
  );
  return errors.length > 0 ? { ok: false, errors } : parsed;
}

function parseAnyTenantMessage(raw: unknown): ParseResult<TenantMessage> {
  if (!isObject(raw)) return { ok: false, errors: NOT_AN_OBJECT };
  const supported = TENANT_MESSAGE_SCHEMAS.map((s) => JSON.stringify(s)).join(", ");
  switch (raw.schema) {
    case "onboarding/v1":
      return checkOnboarding(raw);
    case "offboarding/v1":
      return checkOffboarding(raw);
    case undefined:
      return { ok: false, errors: [{ path: "schema", rule: `is required: one of ${supported}` }] };
    default: {
      const got = typeof raw.schema === "string" ? quoteForError(raw.schema) : raw.schema === null ? "null" : `a ${typeof raw.schema}`;
      return { ok: false, errors: [{ path: "schema", rule: `must be one of ${supported} (got ${got})` }] };
    }
  }
}
