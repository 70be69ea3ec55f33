import { describe, expect, it } from "vitest";
import {
  compareImageVersions,
  explainWorkloadError,
  summarizeFanOut,
  workloadNames,
  workloadResourceId,
  type WorkloadOutcome,
} from "../../src/domain/workloads";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const where = {
  tenantId: TENANT,
  subscriptionId: "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
  resourceGroup: "rg-apps",
  location: "westeurope",
  image: "ubuntu-2404",
  version: "1.2.0",
};

describe("workload names", () => {
  it("are the same for the same tenant and image in any casing, and differ between a VM and a scale set", () => {
    const vm = workloadNames("vm", TENANT, "Ubuntu-2404");
    expect(workloadNames("vm", TENANT.toUpperCase(), "ubuntu-2404")).toEqual(vm);
    expect(vm.name).toMatch(/^gs-[0-9a-f]{12}$/);
    expect(vm.nic).toBe(`${vm.name}-nic`);
    expect(workloadNames("vmss", TENANT, "ubuntu-2404").name).toMatch(/^gss-/);
    expect(workloadNames("vm", TENANT, "other-image").name).not.toBe(vm.name);
    expect(workloadResourceId("vmss", where, "gss-x")).toBe(
      `/subscriptions/${where.subscriptionId}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachineScaleSets/gss-x`,
    );
  });
});

describe("compareImageVersions", () => {
  it("orders by number, not by text", () => {
    expect(["1.10.0", "1.9.0", "2.0.0", "1.9.10"].sort(compareImageVersions)).toEqual(["1.9.0", "1.9.10", "1.10.0", "2.0.0"]);
    expect(compareImageVersions("1.0.0", "1.0.0")).toBe(0);
    expect(compareImageVersions("latest", "0.0.0")).toBeLessThan(0);
  });
});

describe("summarizeFanOut", () => {
  it("counts every outcome but lists only the first 20 failures, with short messages, whatever the number of tenants", () => {
    const outcomes: WorkloadOutcome[] = Array.from({ length: 1000 }, (_, i) => ({
      tenantId: `t-${i}`,
      kind: "vm",
      resourceId: `/x/${i}`,
      imageVersion: "/v",
      provisioningState: i % 2 ? "Failed" : "Succeeded",
      ...(i % 2 ? { error: { code: "OSProvisioningTimedOut", message: "m".repeat(5000) } } : {}),
    }));
    const summary = summarizeFanOut(1200, outcomes, 10, 10);
    expect(summary).toMatchObject({ total: 1200, succeeded: 500, failed: 500, running: 10, maxInFlight: 10, moreFailures: 480 });
    expect(summary.failures).toHaveLength(20);
    expect(summary.failures[0]).toEqual({ tenantId: "t-1", kind: "vm", code: "OSProvisioningTimedOut", message: "m".repeat(300) });
    expect(JSON.stringify(summary).length).toBeLessThan(10 * 1024);
  });
});

describe("explainWorkloadError", () => {
  it("leads with what to change for the failures people meet most, keeping ARM's words", () => {
    expect(explainWorkloadError({ code: "GalleryImageNotFound", message: "The gallery image X is not available in westeurope region." }, where).message).toBe(
      "version 1.2.0 is not replicated to westeurope: the publisher adds westeurope to the version's target regions, or the request names a version or location that has it. ARM said: The gallery image X is not available in westeurope region.",
    );
    expect(explainWorkloadError({ code: "GalleryImageNotFound", message: "not found" }, { ...where, version: "latest" }).message).toMatch(
      /^the gallery has no version of ubuntu-2404 in westeurope: check the request's image name/,
    );
    expect(
      explainWorkloadError({ code: "AuthorizationFailed", message: "no", missingAction: "Microsoft.Compute/virtualMachines/write" }, where).message,
    ).toContain(
      `the app lacks Microsoft.Compute/virtualMachines/write in the consumer tenant: the customer grants it Contributor (or a role with that action) on /subscriptions/${where.subscriptionId}/resourceGroups/rg-apps`,
    );
    expect(
      explainWorkloadError(
        { code: "LinkedAuthorizationFailed", message: "… perform action(s) 'Microsoft.Network/virtualNetworks/subnets/join/action' on the linked scope(s) …" },
        where,
      ).message,
    ).toMatch(/^the app may not use the subnet/);
    expect(explainWorkloadError({ code: "SkuNotAvailable", message: "as ARM said it" }, where)).toEqual({ code: "SkuNotAvailable", message: "as ARM said it" });
  });
});
