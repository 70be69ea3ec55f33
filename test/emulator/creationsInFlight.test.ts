// The control API's counter of VM / scale-set creations in flight (from the 201 until the create's
// operation ends), for assertions such as "never more than 10 creations in flight". Status polls are
// slowed with a delay fault so that creations overlap for certain; the real SDK pollers drive them.
import type { VirtualMachine, VirtualMachineScaleSet } from "@azure/arm-compute";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { nicConfig, RG, SHARED_IMAGE, startComputeWorld, type ComputeWorld } from "./computeWorld";

let w: ComputeWorld;

beforeAll(async () => {
  w = await startComputeWorld();
});

afterAll(async () => {
  await w.emu.close();
});

beforeEach(() => {
  w.emu.control.clearFaults();
  w.emu.control.resetCreations();
  // Every operation-status poll waits 150 ms (real time) before it is answered.
  w.emu.control.fault({ method: "GET", path: /\/providers\/Microsoft\.Compute\/locations\/[^/]+\/operations\//, delayMs: 150, probability: 1 });
});

function vm(): VirtualMachine {
  return {
    location: "eastus",
    hardwareProfile: { vmSize: "Standard_B2s" },
    storageProfile: { imageReference: { sharedGalleryImageId: `${SHARED_IMAGE}/Versions/latest` } },
    osProfile: { computerName: "vm", adminUsername: "azureuser", adminPassword: "P@ssw0rd-not-real-1" },
    networkProfile: { networkApiVersion: "2020-11-01", networkInterfaceConfigurations: [nicConfig(w.subnet.eastus)] },
  };
}

/** Runs the tasks with at most `limit` at once. */
async function limited(tasks: (() => Promise<unknown>)[], limit: number): Promise<void> {
  const queue = [...tasks];
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t; t = queue.shift()) await t();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

describe("creations in flight", () => {
  it("15 VM creations through 10 slots never have more than 10 in flight (and do reach 10)", async () => {
    const client = w.client(false);
    await limited(
      Array.from({ length: 15 }, (_, i) => () => client.virtualMachines.createOrUpdate(RG, `vm-limited-${i}`, vm())),
      10,
    );
    const stats = w.emu.control.creations();
    expect(stats).toMatchObject({ inFlight: 0, maxInFlight: 10, started: 15, succeeded: 15, failed: 0 });
  });

  it("without a limit all 15 are in flight at once; the counter shows which ones while they run", async () => {
    const client = w.client(false);
    const pollers = Array.from({ length: 15 }, (_, i) => client.virtualMachines.createOrUpdate(RG, `vm-burst-${i}`, vm()));
    await Promise.all(pollers.map((p) => p.submitted()));
    const during = w.emu.control.creations();
    expect(during.inFlight).toBe(15);
    expect(during.current.map((c) => c.kind)).toEqual(Array(15).fill("virtualMachine"));
    expect(during.current[0]?.resourceId).toMatch(/\/providers\/Microsoft\.Compute\/virtualMachines\/vm-burst-\d+$/);
    await Promise.all(pollers);
    expect(w.emu.control.creations()).toMatchObject({ inFlight: 0, maxInFlight: 15, started: 15 });
  });

  it("scale-set creations count too; updates and failed validations do not; GET /_emulator/creations answers the same", async () => {
    const client = w.client(false);
    const ss: VirtualMachineScaleSet = {
      location: "eastus",
      sku: { name: "Standard_B2s", capacity: 3 },
      orchestrationMode: "Uniform",
      upgradePolicy: { mode: "Manual" },
      virtualMachineProfile: {
        storageProfile: { imageReference: { sharedGalleryImageId: `${SHARED_IMAGE}/Versions/latest` } },
        osProfile: { computerNamePrefix: "web", adminUsername: "azureuser", adminPassword: "P@ssw0rd-not-real-1" },
        networkProfile: { networkInterfaceConfigurations: [nicConfig(w.subnet.eastus)] },
      },
    };
    await Promise.all([
      client.virtualMachineScaleSets.createOrUpdate(RG, "ss-count-a", ss),
      client.virtualMachineScaleSets.createOrUpdate(RG, "ss-count-b", ss),
      client.virtualMachines.createOrUpdate(RG, "vm-count", vm()),
    ]);
    // An identical PUT is an update; a refused PUT never starts.
    await client.virtualMachines.createOrUpdate(RG, "vm-count", vm());
    await client.virtualMachineScaleSets.createOrUpdate(RG, "ss-count-a", ss);
    await expect(client.virtualMachines.createOrUpdate(RG, "vm-count-bad", { ...vm(), location: "westeurope" })).rejects.toThrow();
    const stats = w.emu.control.creations();
    expect(stats).toMatchObject({ inFlight: 0, maxInFlight: 3, started: 3, succeeded: 3 });
    const res = await fetch(`${w.emu.url}/_emulator/creations`);
    expect(await res.json()).toEqual(stats);
    await fetch(`${w.emu.url}/_emulator/creations`, { method: "DELETE" });
    expect(w.emu.control.creations()).toMatchObject({ maxInFlight: 0, started: 0 });
  });

  it("a create whose operation fails leaves the count as failed", async () => {
    w.emu.control.fault({ method: "PUT", path: "/virtualMachines/vm-doomed", lro: "fail" });
    await expect(w.client(false).virtualMachines.createOrUpdate(RG, "vm-doomed", vm())).rejects.toThrow();
    expect(w.emu.control.creations()).toMatchObject({ inFlight: 0, started: 1, succeeded: 0, failed: 1 });
  });
});
