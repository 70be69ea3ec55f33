// Shared shape of validation failures: every parser in the domain reports all problems at once,
// each as a path into the input plus the rule it broke, so a caller can dead-letter a message with
// one readable reason instead of fixing it one error at a time.

export interface FieldError {
  /** Where the problem is: a JSON-style path (`galleries[0]`, `vm.version`) or an id segment name; "" for the whole input. */
  path: string;
  /** The rule that was broken, phrased to follow the path: "must be a GUID", "is required". */
  rule: string;
}

export class DomainValidationError extends Error {
  constructor(
    what: string,
    readonly errors: FieldError[],
  ) {
    super(`${what}: ${describeFieldErrors(errors)}`);
    this.name = "DomainValidationError";
  }
}

/** `tenantId: must be a GUID; galleries[0]: must be a gallery resource id`. */
function describeFieldErrors(errors: readonly FieldError[]): string {
  if (errors.length === 0) return "no details";
  return errors.map((e) => (e.path === "" ? e.rule : `${e.path}: ${e.rule}`)).join("; ");
}

/** Any GUID in the 8-4-4-4-12 hex form; Azure compares them case-insensitively. */
export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(s: unknown): s is string {
  return typeof s === "string" && GUID_PATTERN.test(s);
}

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Joins a path the way people write it: `galleries[0].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Longest echo of a caller's value in an error message: long values may be tokens or whole documents. */
const MAX_ECHO_LENGTH = 80;

/** Quotes a value for an error message, cut to MAX_ECHO_LENGTH characters. */
export function quoteForError(value: string): string {
  const cut = value.length > MAX_ECHO_LENGTH ? `${value.slice(0, MAX_ECHO_LENGTH)}…` : value;
  return JSON.stringify(cut);
}

/**
 * Makes a caller-supplied string safe to put in a log line, a status or an event: control
 * characters (a `\n` would forge a log line) become spaces, and the text is cut to `max` characters.
 */
export function boundedText(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Why a free-text value a person will read (a tenant's display name, the publisher's name) is not
 * plain readable text, or undefined when it is: control characters could forge a log line or a
 * terminal colour, bidirectional controls make "Fabrikam" read as something else, a lone surrogate
 * is not text at all, and a value of only invisible characters names nothing.
 */
export function readableTextIssue(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) return "must not contain control characters or line breaks";
  if (/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(value)) return "must not contain bidirectional control characters";
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) return "must not contain a lone surrogate (not text)";
  if (!/[\p{L}\p{N}\p{P}\p{S}]/u.test(value)) return "must contain a visible character";
  return undefined;
}
