// Which share-call failures the activity confirms by reading the sharing profile back: only the
// SDK's failure to deserialize an empty final body. Any other TypeError is an error like any other.
import { describe, expect, it } from "vitest";
import { endedWithEmptyBody } from "../../src/activities/shareLro";

describe("endedWithEmptyBody", () => {
  it("recognises the deserializer reading operationType of a missing body", () => {
    // What @azure/arm-compute 25's sharingUpdateDeserializer throws for an empty final body.
    let thrown: unknown;
    try {
      const body = undefined as unknown as Record<string, unknown>;
      void body["operationType"];
    } catch (err) {
      thrown = err;
    }
    expect(endedWithEmptyBody(thrown)).toBe(true);
  });

  it("does not take other TypeErrors for a confirmed share", () => {
    expect(endedWithEmptyBody(new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) }))).toBe(false);
    expect(endedWithEmptyBody(new TypeError("item.groups.map is not a function"))).toBe(false);
    expect(endedWithEmptyBody(new TypeError("Cannot read properties of undefined (reading 'groups')"))).toBe(false);
    expect(endedWithEmptyBody(new Error("Cannot read properties of undefined (reading 'operationType')"))).toBe(false);
  });
});
