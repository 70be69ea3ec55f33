// The registry's checks: one set validates a record before it is written and the row after it is
// read. A check returns the value it accepts, or INVALID after adding a field error (path and rule).
import { NAME_RULES, formatGalleryId, parseGalleryId, resourceIdIssue } from "../domain/resourceIds";
import { isGuid, isObject, type FieldError } from "../domain/validation";

export const INVALID = Symbol("invalid");
export type Check<T> = (value: unknown, path: string, errors: FieldError[]) => T | typeof INVALID;
export type Shape = Record<string, Check<unknown>>;
export type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

function fail(errors: FieldError[], path: string, rule: string): typeof INVALID {
  errors.push({ path, rule });
  return INVALID;
}

export const anyText: Check<string> = (v, path, errors) => (typeof v === "string" ? v : fail(errors, path, "must be a string"));
export const text: Check<string> = (v, path, errors) => (typeof v === "string" && v.trim() !== "" ? v : fail(errors, path, "must be a non-empty string"));
export const bool: Check<boolean> = (v, path, errors) => (typeof v === "boolean" ? v : fail(errors, path, "must be true or false"));
export const wholeNumber: Check<number> = (v, path, errors) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : fail(errors, path, "must be a whole number, 0 or more");
export const guid: Check<string> = (v, path, errors) => (isGuid(v) ? v.toLowerCase() : fail(errors, path, "must be a GUID"));

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
export const timestamp: Check<string> = (v, path, errors) =>
  typeof v === "string" && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v)) ? v : fail(errors, path, "must be an ISO 8601 time like 2026-01-01T09:00:00.000Z");

/** Stored in canonical casing, so ids read back the way config.ts and the messages spell them. */
export const galleryId: Check<string> = (v, path, errors) => {
  if (typeof v !== "string") return fail(errors, path, "must be a gallery resource id");
  const issue = resourceIdIssue("gallery", v);
  return issue === undefined ? formatGalleryId(parseGalleryId(v)) : fail(errors, path, issue);
};

export const resourceGroup: Check<string> = (v, path, errors) =>
  typeof v === "string" && NAME_RULES.resourceGroup.test(v) ? v : fail(errors, path, NAME_RULES.resourceGroup.rule);

/** An https link without user info: a consent URL is shown to people, and never carries a credential. */
export const httpsUrl: Check<string> = (v, path, errors) => {
  const rule = "must be an https URL without user name or password";
  if (typeof v !== "string" || !URL.canParse(v)) return fail(errors, path, rule);
  const url = new URL(v);
  return url.protocol === "https:" && url.username === "" && url.password === "" ? v : fail(errors, path, rule);
};

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  const rule = `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  return (v, path, errors) => values.find((x) => x === v) ?? fail(errors, path, rule);
}

/** Absent (undefined, or null as Table storage may return) is fine; present must pass `check`. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path, errors) => (v === undefined || v === null ? undefined : check(v, path, errors));
}

export function listOf<T>(item: Check<T>): Check<readonly T[]> {
  return (v, path, errors) => {
    if (!Array.isArray(v)) return fail(errors, path, "must be an array");
    const before = errors.length;
    const out: T[] = [];
    v.forEach((x: unknown, i) => {
      const parsed = item(x, `${path}[${i}]`, errors);
      if (parsed !== INVALID) out.push(parsed);
    });
    return errors.length === before ? out : INVALID;
  };
}

/**
 * An object of the shape's fields. Only the shape's fields come out: anything else on the input is
 * not stored. `strict` (records being written) refuses a field the shape does not list: it would
 * not be stored, and a field added to a record type but not to its shape must fail loudly instead
 * of vanishing on write. Rows read back carry the table's own properties too.
 */
export function struct<S extends Shape>(shape: S, strict = false): Check<Parsed<S>> {
  return (v, path, errors) => {
    if (!isObject(v)) return fail(errors, path, "must be an object");
    const before = errors.length;
    if (strict) {
      for (const key of Object.keys(v)) {
        if (!(key in shape) && v[key] !== undefined) fail(errors, path === "" ? key : `${path}.${key}`, "is not a field the registry stores");
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const parsed = check(v[key], path === "" ? key : `${path}.${key}`, errors);
      if (parsed !== INVALID && parsed !== undefined) out[key] = parsed;
    }
    // Every field passed its check, so `out` has the shape's types.
    return errors.length === before ? (out as Parsed<S>) : INVALID;
  };
}

/** A field stored as a JSON string, checked after parsing. */
export function storedJson(check: Check<unknown>): Check<unknown> {
  return (v, path, errors) => {
    if (v === undefined || v === null) return check(v, path, errors);
    if (typeof v !== "string") return fail(errors, path, "must be a JSON string");
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return fail(errors, path, "is not valid JSON");
    }
    return check(parsed, path, errors);
  };
}
