import { describe, expect, it } from "vitest";
import * as domain from "../../src/domain";

describe("src/domain index", () => {
  it("re-exports the public API of every module", () => {
    const expected = [
      "DomainValidationError", "isGuid", "GUID_PATTERN",
      "parseImageVersionId", "formatImageVersionId", "parseRoleAssignmentScope", "normalizeResourceId", "sameResourceId",
      "replicationVerdict", "sameRegion",
      "planShare", "shareOperations", "ShareRuleError", "DEFAULT_SHARE_LIMITS",
      "classifyEvent", "toEventArray",
      "parseTenantMessage", "parseOnboarding", "parseOffboarding",
      "classifyError", "describeError",
      "adminConsentUrl", "parseConsentCallback",
    ];
    for (const name of expected) expect(domain, name).toHaveProperty(name);
  });
});
