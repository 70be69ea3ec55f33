import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseWithSchema } from "../../src/domain/zodIssues";

// The domain's schemas give their own messages for most checks; these are the fallbacks.
describe("parseWithSchema wording", () => {
  const schema = z.strictObject({
    name: z.string().min(2).max(3),
    tags: z.array(z.string()).min(1).max(2),
    count: z.number().int(),
    flag: z.boolean(),
    when: z.date().optional(),
    pick: z.literal("a").optional(),
  });

  it("phrases generic issues as rules", () => {
    expect(parseWithSchema(schema, { name: "x", tags: [], count: "1", flag: 1, when: "today" })).toEqual({
      ok: false,
      errors: [
        { path: "name", rule: "must be at least 2 characters" },
        { path: "tags", rule: "must have at least 1 item(s)" },
        { path: "count", rule: "must be a number" },
        { path: "flag", rule: "must be true or false" },
        { path: "when", rule: "must be date" },
      ],
    });
    expect(parseWithSchema(schema, { name: "long", tags: ["a", "b", "c"], count: 1.5, flag: true, pick: "b" })).toEqual({
      ok: false,
      errors: [
        { path: "name", rule: "must be at most 3 characters" },
        { path: "tags", rule: "must have at most 2 item(s)" },
        { path: "count", rule: "must be a whole number" },
        { path: "pick", rule: 'must be "a"' },
      ],
    });
  });

  it("keeps zod's message for issues it does not rephrase, and returns the value when valid", () => {
    const refined = z.string().refine((s) => s === "ok", { error: "must be ok" });
    expect(parseWithSchema(refined, "no")).toEqual({ ok: false, errors: [{ path: "", rule: "must be ok" }] });
    expect(parseWithSchema(z.email(), "no")).toEqual({ ok: false, errors: [{ path: "", rule: "Invalid email address" }] });
    expect(parseWithSchema(refined, "ok")).toEqual({ ok: true, value: "ok" });
  });
});
