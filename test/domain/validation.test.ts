import { describe, expect, it } from "vitest";
import { DomainValidationError, GUID_PATTERN, formatPath, isGuid, quoteForError } from "../../src/domain/validation";

describe("DomainValidationError", () => {
  it("lists every error after what was invalid", () => {
    const err = new DomainValidationError("invalid onboarding message", [
      { path: "tenantId", rule: "must be a GUID" },
      { path: "galleries[0]", rule: "must be a gallery resource id" },
    ]);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("DomainValidationError");
    expect(err.message).toBe("invalid onboarding message: tenantId: must be a GUID; galleries[0]: must be a gallery resource id");
    expect(err.errors).toHaveLength(2);
  });

  it("writes a whole-input error without a path", () => {
    expect(new DomainValidationError("invalid event", [{ path: "", rule: "must be a JSON object" }]).message).toBe("invalid event: must be a JSON object");
  });

  it("still says something when given no errors", () => {
    expect(new DomainValidationError("invalid event", []).message).toBe("invalid event: no details");
  });
});

describe("isGuid", () => {
  it("accepts GUIDs in either case and rejects everything else", () => {
    expect(isGuid("0b1f6471-1bf0-4dda-aec3-cb9272f09590")).toBe(true);
    expect(isGuid("0B1F6471-1BF0-4DDA-AEC3-CB9272F09590")).toBe(true);
    expect(isGuid("{0b1f6471-1bf0-4dda-aec3-cb9272f09590}")).toBe(false);
    expect(isGuid("0b1f64711bf04ddaaec3cb9272f09590")).toBe(false);
    expect(isGuid(42)).toBe(false);
    expect(GUID_PATTERN.test("not-a-guid")).toBe(false);
  });
});

describe("formatPath", () => {
  it("writes array indexes in brackets and keys with dots", () => {
    expect(formatPath(["galleries", 0])).toBe("galleries[0]");
    expect(formatPath(["vm", "version"])).toBe("vm.version");
    expect(formatPath([0, "id"])).toBe("[0].id");
    expect(formatPath([])).toBe("");
  });
});

describe("quoteForError", () => {
  it("quotes short values whole", () => {
    expect(quoteForError("abc")).toBe('"abc"');
  });

  it("cuts long values so tokens and documents never reach a log whole", () => {
    const long = "x".repeat(500);
    const quoted = quoteForError(long);
    expect(quoted).toBe(JSON.stringify("x".repeat(80) + "…"));
    expect(quoteForError("y".repeat(80))).toBe(JSON.stringify("y".repeat(80)));
  });
});
