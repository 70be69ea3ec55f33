import { describe, expect, it } from "vitest";
import { publishInstanceId, stableHash } from "../../src/domain/instanceIds";

const id = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/img/versions/1.0.0";

describe("publishInstanceId", () => {
  it("is the same for any casing and a trailing slash of the same version id", () => {
    expect(publishInstanceId(id)).toBe(publishInstanceId(id.toLowerCase().replace("resourcegroups", "resourcegroups") + "/"));
    expect(publishInstanceId(id)).toBe(publishInstanceId(id.toUpperCase()));
  });

  it("differs between versions and is a valid instance id", () => {
    const other = publishInstanceId(id.replace("1.0.0", "1.0.1"));
    expect(other).not.toBe(publishInstanceId(id));
    expect(publishInstanceId(id)).toMatch(/^publish-[0-9a-f]{32}$/);
  });

  it("hashes to 32 hex characters, stable across runs", () => {
    expect(stableHash("")).toBe("cbf29ce48422232584222325cbf29ce4");
    expect(stableHash("a")).toHaveLength(32);
  });
});
