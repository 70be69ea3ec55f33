// Deterministic orchestration instance ids: every delivery of the same event (Event Grid delivers at
// least once, and ARM may fire several writes per operation) maps to one instance.
//
// Instance ids may not contain "/" and are limited in length, while ARM ids are long and
// case-insensitive, so the id is a hash of the normalised resource id (two 64-bit FNV-1a lanes; a
// collision needs ~2^64 versions) behind a readable prefix.

import { normalizeResourceId } from "./resourceIds";

const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

function fnv1a64(text: string, offset: bigint): bigint {
  let hash = offset;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK_64;
  }
  return hash;
}

/** 32 hex characters that identify `text`. */
export function stableHash(text: string): string {
  const a = fnv1a64(text, 0xcbf29ce484222325n);
  const b = fnv1a64(text, 0x84222325cbf29ce4n);
  return a.toString(16).padStart(16, "0") + b.toString(16).padStart(16, "0");
}

/** The instance id of the publish orchestration for an image version (its id in any casing). */
export function publishInstanceId(imageVersionId: string): string {
  return `publish-${stableHash(normalizeResourceId(imageVersionId))}`;
}

/** The versionId of /api/versions/{versionId}: the same hash the publish's instance id carries. */
export function versionKeyOf(imageVersionId: string): string {
  return stableHash(normalizeResourceId(imageVersionId));
}

/** The instance id of a version's revocation. */
export function revokeInstanceId(versionKey: string): string {
  return `revoke-${versionKey}`;
}

/** A GUID that always comes out the same for the same text (role assignment names must be GUIDs). */
export function stableGuid(text: string): string {
  const h = stableHash(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
