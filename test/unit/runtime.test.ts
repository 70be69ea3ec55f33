import { describe, expect, it } from "vitest";

describe("runtime", () => {
  it("runs on Node 22 or newer, as Azure Functions does", () => {
    console.log(`tests run on node ${process.version}`);
    const major = Number(process.versions.node.split(".")[0]);
    expect(major).toBeGreaterThanOrEqual(22);
  });
});
