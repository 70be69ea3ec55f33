// Keys of the registry table (consumer tenants, grants, requests). Table storage refuses "/", "\",
// "#", "?" and control characters in PartitionKey and RowKey and limits each to 1 KiB, and its keys
// compare case-sensitively while Azure's GUIDs and resource ids do not: every key is built here,
// from validated, lower-cased parts, so two spellings of one id can never make two rows.

import { stableHash } from "./instanceIds";
import { normalizeResourceId, resourceIdIssue } from "./resourceIds";
import { DomainValidationError, isGuid } from "./validation";

export const REQUEST_PARTITION = "request";
export const TENANT_PARTITION = "tenant";
/** The rows that count VM and scale-set creations in flight, one per slot. */
export const CREATION_SLOT_PARTITION = "creation-slot";
/** Every grant partition starts with this; "grant." is the first string after all of them. */
export const GRANT_PARTITION_PREFIX = "grant-";
export const GRANT_PARTITION_END = "grant.";

export const GRANT_KINDS = ["subscription", "tenant", "roleAssignment"] as const;
export type GrantKind = (typeof GRANT_KINDS)[number];

/** 1 KiB of UTF-16. */
const MAX_KEY_LENGTH = 512;

/** Why `key` cannot be a PartitionKey or RowKey, or undefined when it can. */
export function tableKeyIssue(key: string): string | undefined {
  if (key === "") return "must not be empty";
  if (key.length > MAX_KEY_LENGTH) return `must be at most ${MAX_KEY_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what Table storage refuses
  if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(key)) return "must not contain '/', '\\', '#', '?' or control characters";
  return undefined;
}

function refuse(field: string, rule: string): never {
  throw new DomainValidationError("invalid registry key", [{ path: field, rule }]);
}

/** A GUID as a key: lower-case. Throws a DomainValidationError naming `field`. */
export function guidKey(field: string, value: unknown): string {
  if (!isGuid(value)) return refuse(field, "must be a GUID");
  return value.toLowerCase();
}

/** The partition of a gallery's grants: a hash of the id, since keys may not contain "/". */
export function grantPartition(galleryId: unknown): string {
  if (typeof galleryId !== "string") return refuse("galleryId", "must be a gallery resource id");
  const issue = resourceIdIssue("gallery", galleryId);
  if (issue !== undefined) return refuse("galleryId", issue);
  return `${GRANT_PARTITION_PREFIX}${stableHash(normalizeResourceId(galleryId))}`;
}

/** Tenants with workloads (VMs, scale sets) that use a gallery: one row per tenant, an index the publish reads instead of every tenant. */
export const WORKLOAD_MEMBER_PARTITION_PREFIX = "workload-members-";

export function workloadMemberPartition(galleryId: unknown): string {
  return grantPartition(galleryId).replace(GRANT_PARTITION_PREFIX, WORKLOAD_MEMBER_PARTITION_PREFIX);
}

/** What operators did (dashboard and CLI actions), newest first: the row key counts down with time. */
export const OPERATOR_ACTION_PARTITION = "operator-action";

/** A row key that sorts newest first: milliseconds to the year 2286, then the action's id. */
export function operatorActionKey(at: string, id: string): string {
  const ms = Date.parse(at);
  if (!Number.isFinite(ms)) return refuse("at", "must be an ISO time");
  if (!/^[0-9a-f-]{8,64}$/.test(id)) return refuse("id", "must be 8-64 hex digits or dashes");
  return `${String(9_999_999_999_999 - ms).padStart(13, "0")}-${id}`;
}

/** What the app knows of each image version it rolled out or revoked: one row per version. */
export const IMAGE_VERSION_PARTITION = "image-version";

/** An image version's key: a hash of its normalised id (also the `{versionId}` of /api/versions). */
export function imageVersionKey(imageVersionId: unknown): string {
  if (typeof imageVersionId !== "string") return refuse("imageVersionId", "must be an image version resource id");
  const issue = resourceIdIssue("imageVersion", imageVersionId);
  if (issue !== undefined) return refuse("imageVersionId", issue);
  return stableHash(normalizeResourceId(imageVersionId));
}

/** `<kind>|<target GUID>`: the kind keeps a tenant and a subscription with one GUID apart. */
export function grantRowKey(kind: unknown, targetId: unknown): string {
  const known = GRANT_KINDS.find((k) => k === kind);
  if (known === undefined) return refuse("kind", `must be one of ${GRANT_KINDS.map((k) => JSON.stringify(k)).join(", ")}`);
  return `${known}|${guidKey("targetId", targetId)}`;
}
