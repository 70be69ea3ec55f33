// Acceptance: replication progresses step by step as the (virtual) clock advances, a scripted
// region failure shows Failed in that region, and seeded jitter repeats exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUB, publisherCompute, startWorld, type TestWorld } from "./helpers";

let w: TestWorld;

beforeAll(async () => {
  w = await startWorld();
});

afterAll(async () => {
  await w.emu.close();
});

const MIN = 60_000;

async function status(version: string) {
  const v = await publisherCompute(w).galleryImageVersions.get(PUB.resourceGroup, PUB.gallery, PUB.image, version, { expand: "ReplicationStatus" });
  return {
    provisioningState: v.provisioningState,
    aggregated: v.replicationStatus?.aggregatedState,
    regions: Object.fromEntries((v.replicationStatus?.summary ?? []).map((s) => [s.region, [s.state, s.progress, s.details]])),
  };
}

function publish(version: string, extra: { regionMinutes?: Record<string, number>; failRegions?: Record<string, string> } = {}): void {
  w.emu.control.publishVersion({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: PUB.gallery,
    image: PUB.image,
    version,
    targetRegions: ["eastus", "westus2"],
    ...extra,
  });
}

describe("replication on the shared clock", () => {
  it("moves step by step: the home region first, then the others; display names in the summary", async () => {
    publish("1.0.0", { regionMinutes: { eastus: 10, "West US 2": 20 } });
    expect(await status("1.0.0")).toEqual({
      provisioningState: "Creating",
      aggregated: "InProgress",
      regions: { "East US": ["Replicating", 0, ""], "West US 2": ["Replicating", 0, ""] },
    });
    const eastProgress: number[] = [];
    for (let i = 0; i < 10; i++) {
      w.clock.advance(MIN);
      eastProgress.push((await status("1.0.0")).regions["East US"]?.[1] as number);
    }
    expect(eastProgress).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect((await status("1.0.0")).regions).toEqual({ "East US": ["Completed", 100, ""], "West US 2": ["Replicating", 0, ""] });
    w.clock.advance(5 * MIN);
    expect((await status("1.0.0")).regions["West US 2"]).toEqual(["Replicating", 25, ""]);
    w.clock.advance(15 * MIN);
    expect(await status("1.0.0")).toEqual({
      provisioningState: "Succeeded",
      aggregated: "Completed",
      regions: { "East US": ["Completed", 100, ""], "West US 2": ["Completed", 100, ""] },
    });
  });

  it("a scripted region failure shows Failed in that region, then in the aggregate and the version", async () => {
    publish("1.1.0", { regionMinutes: { eastus: 10, westus2: 20 }, failRegions: { westus2: "Replication failed: the disk copy timed out." } });
    w.clock.advance(15 * MIN);
    expect(await status("1.1.0")).toMatchObject({
      aggregated: "InProgress",
      regions: { "East US": ["Completed", 100, ""], "West US 2": ["Replicating", 25, ""] },
    });
    w.clock.advance(5 * MIN);
    expect(await status("1.1.0")).toEqual({
      provisioningState: "Failed",
      aggregated: "Failed",
      regions: { "East US": ["Completed", 100, ""], "West US 2": ["Failed", 50, "Replication failed: the disk copy timed out."] },
    });
  });

  it("a version PUT through the SDK answers 201 Creating and its poller finishes only when replication does", async () => {
    const client = publisherCompute(w);
    const poller = client.galleryImageVersions.createOrUpdate(PUB.resourceGroup, PUB.gallery, PUB.image, "2.0.0", {
      location: PUB.location,
      publishingProfile: { targetRegions: [{ name: "East US" }] },
      storageProfile: {
        source: { id: `/subscriptions/${PUB.subscriptionId}/resourceGroups/${PUB.resourceGroup}/providers/Microsoft.Compute/images/source-2` },
      },
    });
    await poller.submitted();
    await poller.poll();
    expect(poller.isDone).toBe(false);
    const put = w.emu.control.requestLog().find((e) => e.method === "PUT" && e.url.includes("/versions/2.0.0?"));
    expect(put?.status).toBe(201);
    expect((put?.responseBody as { properties: { provisioningState: string } }).properties.provisioningState).toBe("Creating");
    expect(put?.responseHeaders.location).toBeUndefined();
    w.clock.advance(2 * 60 * MIN);
    const v = await poller.pollUntilDone();
    expect(v.provisioningState).toBe("Succeeded");
    expect(v.publishingProfile?.targetRegions?.map((r) => r.name)).toEqual(["East US"]);
  });

  it("versions the app writes over HTTP follow control.scriptReplication", async () => {
    w.emu.control.scriptReplication({
      image: PUB.image,
      version: "3.0.0",
      regionMinutes: { eastus: 6, westus2: 4 },
      failRegions: { westus2: "Quota exceeded in West US 2." },
    });
    const client = publisherCompute(w);
    const poller = client.galleryImageVersions.createOrUpdate(PUB.resourceGroup, PUB.gallery, PUB.image, "3.0.0", {
      location: PUB.location,
      publishingProfile: { targetRegions: [{ name: "eastus" }, { name: "westus2" }] },
      storageProfile: {
        source: { id: `/subscriptions/${PUB.subscriptionId}/resourceGroups/${PUB.resourceGroup}/providers/Microsoft.Compute/images/source-3` },
      },
    });
    await poller.submitted();
    w.clock.advance(3 * MIN);
    expect((await status("3.0.0")).regions["East US"]).toEqual(["Replicating", 50, ""]);
    w.clock.advance(5 * MIN);
    expect(await status("3.0.0")).toMatchObject({
      provisioningState: "Failed",
      aggregated: "Failed",
      regions: { "West US 2": ["Failed", 50, "Quota exceeded in West US 2."] },
    });
    await expect(poller.pollUntilDone()).rejects.toThrow(/West US 2/);
  });

  it("seeded jitter: the same seed repeats exactly, another seed differs; default 30-60 minutes per region", async () => {
    const durations = async (seed: number): Promise<number[]> => {
      const x = await startWorld({ seed });
      try {
        x.emu.control.publishVersion({
          subscriptionId: PUB.subscriptionId,
          resourceGroup: PUB.resourceGroup,
          gallery: PUB.gallery,
          image: PUB.image,
          version: "1.0.0",
          targetRegions: ["eastus", "westus2", "northeurope"],
        });
        const client = publisherCompute(x);
        const doneAt: Record<string, number> = {};
        for (let minute = 1; minute <= 200 && Object.keys(doneAt).length < 3; minute++) {
          x.clock.advance(MIN);
          const v = await client.galleryImageVersions.get(PUB.resourceGroup, PUB.gallery, PUB.image, "1.0.0", { expand: "ReplicationStatus" });
          for (const s of v.replicationStatus?.summary ?? [])
            if (s.state === "Completed" && doneAt[s.region ?? ""] === undefined) doneAt[s.region ?? ""] = minute;
        }
        return ["East US", "West US 2", "North Europe"].map((r) => doneAt[r] ?? -1);
      } finally {
        await x.emu.close();
      }
    };
    const a = await durations(7);
    expect(await durations(7)).toEqual(a);
    expect(await durations(8)).not.toEqual(a);
    const [home = 0, ...others] = a;
    expect(home).toBeGreaterThanOrEqual(30);
    expect(home).toBeLessThanOrEqual(61);
    for (const t of others) expect(t - home).toBeLessThanOrEqual(61);
  });
});
