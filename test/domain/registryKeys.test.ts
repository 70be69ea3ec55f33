import { describe, expect, it } from "vitest";
import { grantPartition, grantRowKey, guidKey, tableKeyIssue } from "../../src/domain/registryKeys";
import { DomainValidationError } from "../../src/domain/validation";

const GALLERY = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden_images";
const TENANT = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE";

function refusal(run: () => unknown): DomainValidationError {
  try {
    run();
  } catch (err) {
    if (err instanceof DomainValidationError) return err;
    throw err;
  }
  throw new Error("expected a DomainValidationError");
}

describe("tableKeyIssue", () => {
  it("refuses what Table storage refuses in keys", () => {
    for (const bad of ["a/b", "a\\b", "a#b", "a?b", "a\nb", "a\u0000b", "a\u007fb", "a\u0085b", "", "x".repeat(513)]) {
      expect(tableKeyIssue(bad), JSON.stringify(bad)).toBeDefined();
    }
  });

  it("accepts the keys the registry builds", () => {
    expect(tableKeyIssue("tenant")).toBeUndefined();
    expect(tableKeyIssue(grantPartition(GALLERY))).toBeUndefined();
    expect(tableKeyIssue(grantRowKey("roleAssignment", TENANT))).toBeUndefined();
  });
});

describe("registry keys", () => {
  it("lower-cases GUIDs, so two spellings are one row", () => {
    expect(guidKey("tenantId", TENANT)).toBe(TENANT.toLowerCase());
    expect(grantRowKey("tenant", TENANT)).toBe(`tenant|${TENANT.toLowerCase()}`);
  });

  it("puts a gallery's grants in one partition whatever the id's casing", () => {
    expect(grantPartition(GALLERY)).toMatch(/^grant-[0-9a-f]{32}$/);
    expect(grantPartition(GALLERY.toUpperCase() + "/")).toBe(grantPartition(GALLERY));
    expect(grantPartition(GALLERY.replace("golden_images", "other"))).not.toBe(grantPartition(GALLERY));
  });

  it("refuses bad parts with an error naming the field", () => {
    expect(refusal(() => guidKey("tenantId", "a/b")).errors).toEqual([{ path: "tenantId", rule: "must be a GUID" }]);
    expect(refusal(() => guidKey("requestId", undefined)).message).toBe("invalid registry key: requestId: must be a GUID");
    expect(refusal(() => grantRowKey("subscription", "x#y")).errors[0]?.path).toBe("targetId");
    expect(refusal(() => grantRowKey("owner", TENANT)).errors[0]).toEqual({ path: "kind", rule: 'must be one of "subscription", "tenant", "roleAssignment"' });
    expect(refusal(() => grantPartition("/subscriptions/x?y")).errors[0]?.path).toBe("galleryId");
    expect(refusal(() => grantPartition(42)).errors[0]?.path).toBe("galleryId");
  });
});
