// Runs a zod schema and reports its issues as FieldErrors in this domain's wording
// ("is required", "must be a string") instead of zod's, so every parser reads alike.
// Messages never echo the input: it may be long or secret-ish.

import type { z } from "zod";
import { formatPath, quoteForError, type FieldError } from "./validation";

const NOUNS: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "an array",
  object: "an object",
};

/** Phrases zod's generic issues; a message given in the schema takes precedence over this. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "is required" : `must be ${NOUNS[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      if (issue.input === undefined) return "is required";
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return issue.origin === "array" ? `must have at least ${issue.minimum} item(s)` : `must be at least ${issue.minimum} characters`;
    case "too_big":
      return issue.origin === "array" ? `must have at most ${issue.maximum} item(s)` : `must be at most ${issue.maximum} characters`;
    default:
      return undefined;
  }
};

function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key.length > 80 ? quoteForError(key) : key]), rule: "is not a known field" }))
      : [{ path: formatPath(issue.path), rule: issue.message }],
  );
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function parseWithSchema<T>(schema: z.ZodType<T>, raw: unknown): Parsed<T> {
  const result = schema.safeParse(raw, { error: errorMap });
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: issuesToFieldErrors(result.error.issues) };
}
