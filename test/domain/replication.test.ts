import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { replicationVerdict, type ImageVersionSnapshot } from "../../src/domain/replication";

// The official example, vendored unmodified in specs/compute-gallery.
const EXAMPLE = path.resolve(
  __dirname,
  "../../specs/compute-gallery/specification/compute/resource-manager/Microsoft.Compute/GalleryRP/stable/2025-03-03/examples/galleryExamples/GalleryImageVersion_Get_WithReplicationStatus.json",
);

interface ExampleBody {
  properties: {
    provisioningState: string;
    publishingProfile: { targetRegions: { name: string }[] };
    replicationStatus: NonNullable<ImageVersionSnapshot["replicationStatus"]>;
  };
}

function snapshotFromSwaggerExample(): ImageVersionSnapshot {
  const example = JSON.parse(readFileSync(EXAMPLE, "utf8")) as { responses: { "200": { body: ExampleBody } } };
  const p = example.responses["200"].body.properties;
  return {
    provisioningState: p.provisioningState,
    targetRegions: p.publishingProfile.targetRegions.map((r) => r.name),
    replicationStatus: p.replicationStatus,
  };
}

const twoRegions = (summary: NonNullable<ImageVersionSnapshot["replicationStatus"]>["summary"], aggregatedState = "InProgress"): ImageVersionSnapshot => ({
  provisioningState: "Creating",
  targetRegions: ["East US", "West Europe"],
  replicationStatus: { aggregatedState, ...(summary === undefined ? {} : { summary }) },
});

describe("replicationVerdict", () => {
  it("reads the official swagger example (all regions Completed) as Completed", () => {
    const verdict = replicationVerdict(snapshotFromSwaggerExample());
    expect(verdict).toEqual({
      state: "Completed",
      regions: [
        { region: "West US", state: "Completed", progress: 100 },
        { region: "East US", state: "Completed", progress: 100 },
      ],
    });
  });

  it("is Pending without any replication status, with every target Unknown", () => {
    const verdict = replicationVerdict({ provisioningState: "Succeeded", targetRegions: ["eastus"] });
    expect(verdict).toEqual({
      state: "Pending",
      reason: "no replication status was reported (read the version with $expand=ReplicationStatus)",
      regions: [{ region: "eastus", state: "Unknown", progress: 0 }],
    });
  });

  it("is Pending while Creating with nothing reported", () => {
    const verdict = replicationVerdict({ provisioningState: "Creating", targetRegions: ["eastus"], replicationStatus: { aggregatedState: "Unknown" } });
    expect(verdict.state).toBe("Pending");
    expect(verdict.state === "Pending" && verdict.reason).toBe("no region has reported replication yet (provisioningState Creating)");
    const bare = replicationVerdict({ targetRegions: ["eastus"], replicationStatus: { summary: [] } });
    expect(bare.state === "Pending" && bare.reason).toBe("no region has reported replication yet (provisioningState not reported)");
  });

  it("is Replicating with per-region progress in targetRegions order, matching display names", () => {
    const verdict = replicationVerdict(
      twoRegions([
        { region: "westeurope", state: "Replicating", progress: 42 },
        { region: "eastus", state: "Completed", progress: 97, details: "done" },
      ]),
    );
    expect(verdict).toEqual({
      state: "Replicating",
      regions: [
        { region: "East US", state: "Completed", progress: 100, details: "done" },
        { region: "West Europe", state: "Replicating", progress: 42 },
      ],
    });
  });

  it("does not call a version Completed when a target region is missing from the summary", () => {
    const verdict = replicationVerdict({
      ...twoRegions([{ region: "East US", state: "Completed", progress: 100 }], "Completed"),
      provisioningState: "Succeeded",
    });
    expect(verdict.state).toBe("Replicating");
    expect(verdict.regions[1]).toEqual({ region: "West Europe", state: "Unknown", progress: 0 });
  });

  it("does not call a version Completed unless aggregatedState says so", () => {
    const summary = [
      { region: "East US", state: "Completed" },
      { region: "West Europe", state: "Completed" },
    ];
    expect(replicationVerdict({ ...twoRegions(summary, "InProgress"), provisioningState: "Succeeded" }).state).toBe("Replicating");
    expect(replicationVerdict({ ...twoRegions(summary, "Completed"), provisioningState: "Succeeded" }).state).toBe("Completed");
    expect(replicationVerdict({ targetRegions: ["East US"], replicationStatus: { summary: [{ region: "East US", state: "Completed" }] } }).state).toBe(
      "Replicating",
    );
  });

  it("does not call a version Completed while ARM is still provisioning it", () => {
    const summary = [
      { region: "East US", state: "Completed" },
      { region: "West Europe", state: "Completed" },
    ];
    expect(replicationVerdict({ ...twoRegions(summary, "Completed"), provisioningState: "Updating" }).state).toBe("Replicating");
    expect(replicationVerdict({ ...twoRegions(summary, "Completed"), provisioningState: undefined }).state).toBe("Completed");
  });

  it("never reads an unknown state as complete", () => {
    const verdict = replicationVerdict({
      provisioningState: "Succeeded",
      targetRegions: ["East US"],
      replicationStatus: { aggregatedState: "Completed", summary: [{ region: "East US", state: "Done", progress: 100 }] },
    });
    expect(verdict).toEqual({ state: "Replicating", regions: [{ region: "East US", state: "Unknown", progress: 100 }] });
  });

  it("accepts state values in any case", () => {
    const verdict = replicationVerdict({
      provisioningState: "succeeded",
      targetRegions: ["East US"],
      replicationStatus: { aggregatedState: "completed", summary: [{ region: "East US", state: "completed" }] },
    });
    expect(verdict.state).toBe("Completed");
  });

  it("fails naming the failed regions and their details", () => {
    const verdict = replicationVerdict(
      twoRegions([
        { region: "East US", state: "Failed", details: "disk copy failed" },
        { region: "West Europe", state: "Failed" },
      ]),
    );
    expect(verdict).toMatchObject({
      state: "Failed",
      failedRegions: [
        { region: "East US", details: "disk copy failed" },
        { region: "West Europe", details: "no details reported" },
      ],
      details: "replication failed in East US, West Europe",
    });
  });

  it("fails when provisioningState is Failed even though every region says Completed", () => {
    const verdict = replicationVerdict({
      provisioningState: "Failed",
      targetRegions: ["East US"],
      replicationStatus: { aggregatedState: "Completed", summary: [{ region: "East US", state: "Completed", progress: 100 }] },
    });
    expect(verdict).toEqual({
      state: "Failed",
      regions: [{ region: "East US", state: "Completed", progress: 100 }],
      failedRegions: [],
      details: "the image version's provisioningState is Failed",
    });
  });

  it("mentions failed regions when provisioning failed too", () => {
    const verdict = replicationVerdict({ ...twoRegions([{ region: "East US", state: "Failed", details: "x" }]), provisioningState: "Failed" });
    expect(verdict.state === "Failed" && verdict.details).toBe("the image version's provisioningState is Failed; replication failed in East US");
  });

  it("fails when the aggregated state is Failed without a failed region", () => {
    const verdict = replicationVerdict(twoRegions([{ region: "East US", state: "Replicating", progress: 10 }], "Failed"));
    expect(verdict.state === "Failed" && verdict.details).toBe("the aggregated replication state is Failed although no region reported a failure");
  });

  it("fails a version that is being deleted", () => {
    const verdict = replicationVerdict({ provisioningState: "Deleting", targetRegions: ["East US"] });
    expect(verdict.state === "Failed" && verdict.details).toBe("the image version is being deleted");
  });

  it("fails when a region outside targetRegions failed, listing it after the targets", () => {
    const verdict = replicationVerdict(
      twoRegions(
        [
          { region: "East US", state: "Completed" },
          { region: "West Europe", state: "Completed" },
          { region: "North Europe", state: "Failed", details: "quota" },
        ],
        "Completed",
      ),
    );
    expect(verdict.regions.map((r) => r.region)).toEqual(["East US", "West Europe", "North Europe"]);
    expect(verdict.state === "Failed" && verdict.failedRegions).toEqual([{ region: "North Europe", details: "quota" }]);
  });
});

describe("per-region progress in the verdict", () => {
  it("matches summary regions to targets by display or programmatic name, in any case", () => {
    const matched = replicationVerdict({
      targetRegions: ["East US 2", "eastus"],
      replicationStatus: {
        summary: [
          { region: "eastus2", state: "Completed" },
          { region: "EASTUS", state: "Replicating", progress: 7 },
        ],
      },
    });
    // Matched entries take the target's name; unmatched ones would be listed again after the targets.
    expect(matched.regions).toEqual([
      { region: "East US 2", state: "Completed", progress: 100 },
      { region: "eastus", state: "Replicating", progress: 7 },
    ]);
    // "East US" is not "East US 2": the target stays Unknown, so the version is not Completed.
    const unmatched = replicationVerdict({
      provisioningState: "Succeeded",
      targetRegions: ["East US"],
      replicationStatus: { aggregatedState: "Completed", summary: [{ region: "East US 2", state: "Completed" }] },
    });
    expect(unmatched).toEqual({
      state: "Replicating",
      regions: [
        { region: "East US", state: "Unknown", progress: 0 },
        { region: "East US 2", state: "Completed", progress: 100 },
      ],
    });
  });

  it("clamps progress to 0-100 and treats a missing or non-finite value as 0", () => {
    const { regions } = replicationVerdict({
      targetRegions: ["a", "b", "c", "d"],
      replicationStatus: {
        summary: [
          { region: "a", state: "Replicating", progress: 150 },
          { region: "b", state: "Replicating", progress: -5 },
          { region: "c", state: "Replicating", progress: Number.NaN },
          { region: "d", state: "Replicating" },
        ],
      },
    });
    expect(regions.map((r) => r.progress)).toEqual([100, 0, 0, 0]);
  });

  it("keeps a summary entry without a region name, and uses the first entry for a region", () => {
    const { regions } = replicationVerdict({
      targetRegions: ["East US"],
      replicationStatus: {
        summary: [
          { region: "eastus", state: "Replicating", progress: 5 },
          { region: "East US", state: "Completed" },
          { state: "Replicating", progress: 3, details: "" },
        ],
      },
    });
    expect(regions).toEqual([
      { region: "East US", state: "Replicating", progress: 5 },
      { region: "(unnamed region)", state: "Replicating", progress: 3 },
    ]);
  });
});
