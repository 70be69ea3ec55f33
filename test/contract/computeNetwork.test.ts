// ComputeRP (virtual machines, scale sets) and NetworkRP (network interfaces, virtual networks)
// contracts: which URLs they cover, the api-version mapping, the strict-enum exception and the
// tolerated NIC property, and an emulator session with the real @azure/arm-compute and
// @azure/arm-network clients whose every covered exchange must conform.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageReference, VirtualMachine, VirtualMachineScaleSet } from "@azure/arm-compute";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPUTE_API_VERSION, NETWORK_API_VERSION, computeContract, networkContract, repoRoot } from "../../local/contract/contracts";
import { closeEnums, specClosure } from "../../local/contract/strictEnums";
import {
  contractFor,
  createContractValidator,
  perSpecSummary,
  validateExchanges,
  type ContractValidator,
  type ExchangeVerdict,
  type RecordedExchange,
} from "../../local/contract/validateTraffic";
import { nicConfig, RG, startComputeWorld, versionId, type ComputeWorld } from "../emulator/computeWorld";
import { collect, restError } from "../emulator/helpers";

const COMPUTE = "ComputeRP 2023-07-01";
const NETWORK = "NetworkRP 2023-05-01";
const SUB = "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d54";
const ARM = `https://127.0.0.1:8443/subscriptions/${SUB}/resourceGroups/rg/providers`;
const json = { "content-type": "application/json; charset=utf-8" };
const x = (method: string, url: string, extra: Partial<RecordedExchange> = {}): RecordedExchange => ({
  method,
  url,
  requestHeaders: {},
  status: 200,
  responseHeaders: json,
  ...extra,
});

function explain(v: ExchangeVerdict): string {
  return `${v.exchange.method} ${v.exchange.url} -> ${v.exchange.status} (${v.operationId ?? "no matching operation"}): isSuccessful=${String(v.isSuccessful)}\n${v.errors.join("\n")}`;
}

let validator: ContractValidator;
beforeAll(async () => {
  validator = await createContractValidator();
});

describe("ComputeRP and NetworkRP contracts", () => {
  it.each([
    ["PUT", `${ARM}/Microsoft.Compute/virtualMachines/vm1?api-version=2026-04-01`, COMPUTE],
    ["GET", `${ARM}/Microsoft.Compute/virtualMachines?api-version=2026-04-01`, COMPUTE],
    ["POST", `${ARM}/Microsoft.Compute/virtualMachineScaleSets/ss/manualupgrade?api-version=2026-04-01`, COMPUTE],
    ["GET", `${ARM}/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/0?api-version=2026-04-01`, COMPUTE],
    ["GET", `${ARM}/Microsoft.Network/networkInterfaces/nic1?api-version=2026-01-01`, NETWORK],
    ["GET", `${ARM}/Microsoft.Network/virtualNetworks/v/subnets/default?api-version=2026-01-01`, NETWORK],
  ])("%s %s -> %s", (method, url, name) => {
    expect(contractFor(x(method, url))?.name).toBe(name);
  });

  it("a dropped connection (recorded status 0) has no response to check and is not covered", () => {
    expect(contractFor(x("GET", `${ARM}/Microsoft.Compute/virtualMachines/vm1?api-version=2026-04-01`, { status: 0 }))).toBeUndefined();
  });

  it("the vendored trees hold the swaggers and exactly what they $ref", () => {
    const root = repoRoot();
    const c = computeContract(path.join(root, "specs", "compute-vm"));
    expect(specClosure(c.specRoot, c.swaggers).map((f) => path.basename(f))).toEqual([
      "computeRPCommon.json",
      "virtualMachine.json",
      "virtualMachineScaleSet.json",
      "common.json",
    ]);
    const n = networkContract(path.join(root, "specs", "network"));
    expect(specClosure(n.specRoot, n.swaggers)).toHaveLength(16);
    for (const contract of [c, n]) {
      for (const s of contract.swaggers) expect(JSON.parse(fs.readFileSync(path.join(contract.specRoot, s), "utf8")).info.version).toBe(contract.apiVersion);
    }
    expect([COMPUTE_API_VERSION, NETWORK_API_VERSION]).toEqual(["2023-07-01", "2023-05-01"]);
  });

  it("closes every enum except the ones named open", () => {
    const text =
      '{"a": {"x-ms-enum": {"name": "VirtualMachineSizeTypes", "modelAsString": true}}, "b": {"x-ms-enum": {\n"name": "Other",\n"modelAsString":  true}}}';
    expect(closeEnums(text, ["VirtualMachineSizeTypes"])).toBe(text.replace('"modelAsString":  true', '"modelAsString":  false'));
    expect(closeEnums(text)).not.toContain("true");
  });

  const vmGet = (properties: Record<string, unknown>): RecordedExchange =>
    x("GET", `${ARM}/Microsoft.Compute/virtualMachines/vm1?api-version=2026-04-01`, {
      responseBody: {
        id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1`,
        name: "vm1",
        type: "Microsoft.Compute/virtualMachines",
        location: "westeurope",
        properties,
      },
    });

  it("validates the SDK's 2026-04-01 as 2023-07-01; a real size outside the deprecated vmSize list passes", async () => {
    const v = await validator.validate(vmGet({ hardwareProfile: { vmSize: "Standard_D2s_v5" }, provisioningState: "Succeeded" }));
    expect(v.isSuccessful, explain(v)).toBe(true);
    expect([v.contract, v.operationId, v.mappedApiVersion]).toEqual([COMPUTE, "VirtualMachines_Get", "2026-04-01"]);
  });

  it("a wrong type, an unknown property or a value outside a closed enum fails", async () => {
    const v = await validator.validate(vmGet({ provisioningState: 7, sparkle: true, priority: "Cheap" }));
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/INVALID_TYPE: .*provisioningState/);
    expect(v.errors.join("\n")).toMatch(/OBJECT_ADDITIONAL_PROPERTIES: .*sparkle/);
    expect(v.errors.join("\n")).toMatch(/ENUM_MISMATCH: .*Cheap/);
  });

  const nicGet = (properties: Record<string, unknown>): RecordedExchange =>
    x("GET", `${ARM}/Microsoft.Network/networkInterfaces/nic1?api-version=2026-01-01`, {
      responseBody: {
        id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic1`,
        name: "nic1",
        type: "Microsoft.Network/networkInterfaces",
        location: "westeurope",
        properties,
      },
    });

  it("NIC allowPort25Out (real traffic, in no swagger) is tolerated and reported; any other unknown property fails", async () => {
    const ok = await validator.validate(nicGet({ provisioningState: "Succeeded", nicType: "Standard", allowPort25Out: false }));
    expect(ok.isSuccessful, explain(ok)).toBe(true);
    expect([ok.contract, ok.operationId, ok.mappedApiVersion]).toEqual([NETWORK, "NetworkInterfaces_Get", "2026-01-01"]);
    expect(ok.tolerated?.join("\n")).toMatch(/OBJECT_ADDITIONAL_PROPERTIES: .*allowPort25Out/);
    const bad = await validator.validate(nicGet({ provisioningState: "Succeeded", nicType: "Fancy", allowPort26Out: false }));
    expect(bad.isSuccessful).toBe(false);
    expect(bad.errors.join("\n")).toMatch(/allowPort26Out/);
    expect(bad.errors.join("\n")).toMatch(/ENUM_MISMATCH: .*Fancy/);
  });
});

// ---------------------------------------------------------------------------------------------
// Emulator session: every VM, scale-set, NIC and virtual-network route the emulator serves.

describe("emulator session: virtual machines, scale sets, network interfaces", () => {
  let w: ComputeWorld;
  beforeAll(async () => {
    w = await startComputeWorld();
  });
  afterAll(async () => {
    await w.emu.close();
  });

  const vm = (imageReference: ImageReference, networkProfile: VirtualMachine["networkProfile"]): VirtualMachine => ({
    location: "eastus",
    hardwareProfile: { vmSize: "Standard_D2s_v5" },
    storageProfile: { imageReference, osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" } } },
    osProfile: { computerName: "vm", adminUsername: "azureuser", adminPassword: "P@ssw0rd-not-real-1" },
    networkProfile,
  });
  const scaleSet = (mode: "Uniform" | "Flexible", capacity: number): VirtualMachineScaleSet => ({
    location: "eastus",
    sku: { name: "Standard_D2s_v5", tier: "Standard", capacity },
    orchestrationMode: mode,
    ...(mode === "Flexible" ? { platformFaultDomainCount: 1 } : {}),
    upgradePolicy: { mode: "Manual" },
    virtualMachineProfile: {
      storageProfile: {
        imageReference: { id: versionId("1.0.0") },
        osDisk: { createOption: "FromImage", caching: "ReadWrite", managedDisk: { storageAccountType: "Premium_LRS" } },
      },
      osProfile: { computerNamePrefix: "web", adminUsername: "azureuser", adminPassword: "P@ssw0rd-not-real-1" },
      networkProfile: { networkApiVersion: "2020-11-01", networkInterfaceConfigurations: [nicConfig(w.subnet.eastus)] },
    },
  });

  it("records only traffic that conforms to the ComputeRP and NetworkRP contracts", async () => {
    const compute = w.client(true);
    const network = w.network();
    const start = w.emu.control.requestLog().length;

    // Network: a virtual network, its subnet, a NIC on it (create, update, get), a missing NIC.
    await network.virtualNetworks.createOrUpdate(RG, "vnet-contract", {
      location: "eastus",
      addressSpace: { addressPrefixes: ["10.9.0.0/16"] },
      subnets: [{ name: "default", addressPrefix: "10.9.0.0/24" }],
    });
    await network.virtualNetworks.get(RG, "vnet-contract");
    const subnet = await network.subnets.get(RG, "vnet-contract", "default");
    const nicBody = { location: "eastus", ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnet.id ?? "" } }] };
    const nic = await network.networkInterfaces.createOrUpdate(RG, "nic-contract", nicBody);
    await network.networkInterfaces.createOrUpdate(RG, "nic-contract", { ...nicBody, tags: { env: "test" } });
    await network.networkInterfaces.get(RG, "nic-contract");
    expect((await restError(network.networkInterfaces.get(RG, "nic-missing"))).statusCode).toBe(404);

    // Virtual machines: on an existing NIC and on a NIC configuration; get, instance view, list, delete.
    await compute.virtualMachines.createOrUpdate(
      RG,
      "vm-contract",
      vm({ id: versionId("1.0.0") }, { networkInterfaces: [{ id: nic.id ?? "", primary: true }] }),
    );
    await compute.virtualMachines.createOrUpdate(
      RG,
      "vm-contract-2",
      vm({ id: versionId("1.0.0") }, { networkApiVersion: "2020-11-01", networkInterfaceConfigurations: [nicConfig(w.subnet.eastus)] }),
    );
    await compute.virtualMachines.get(RG, "vm-contract");
    await compute.virtualMachines.get(RG, "vm-contract", { expand: "instanceView" });
    await collect(compute.virtualMachines.list(RG));
    expect((await restError(network.networkInterfaces.delete(RG, "nic-contract"))).statusCode).toBe(400); // NicInUse
    expect(
      (
        await restError(
          compute.virtualMachines.createOrUpdate(
            RG,
            "vm-contract",
            vm({ id: versionId("1.1.0") }, { networkInterfaces: [{ id: nic.id ?? "", primary: true }] }),
          ),
        )
      ).statusCode,
    ).toBe(409);
    await compute.virtualMachines.delete(RG, "vm-contract");
    await compute.virtualMachines.delete(RG, "vm-contract-2");
    await network.networkInterfaces.delete(RG, "nic-contract");
    expect((await restError(compute.virtualMachines.get(RG, "vm-contract"))).statusCode).toBe(404);

    // Scale sets: Uniform and Flexible, get, list, a model update (PATCH), instances, manualupgrade, delete.
    await compute.virtualMachineScaleSets.createOrUpdate(RG, "ss-contract", scaleSet("Uniform", 2));
    await compute.virtualMachineScaleSets.createOrUpdate(RG, "ss-contract-flex", scaleSet("Flexible", 1));
    await compute.virtualMachineScaleSets.get(RG, "ss-contract");
    await collect(compute.virtualMachineScaleSets.list(RG));
    await compute.virtualMachineScaleSets.update(RG, "ss-contract", {
      virtualMachineProfile: { storageProfile: { imageReference: { id: versionId("1.1.0") } } },
    });
    await collect(compute.virtualMachineScaleSetVMs.list(RG, "ss-contract"));
    await compute.virtualMachineScaleSetVMs.get(RG, "ss-contract", "0");
    await compute.virtualMachineScaleSets.updateInstances(RG, "ss-contract", { instanceIds: ["0", "1"] });
    expect((await restError(compute.virtualMachineScaleSets.updateInstances(RG, "ss-contract", { instanceIds: ["7"] }))).statusCode).toBe(400);
    await compute.virtualMachineScaleSets.delete(RG, "ss-contract");
    await compute.virtualMachineScaleSets.delete(RG, "ss-contract-flex");
    expect((await restError(compute.virtualMachineScaleSets.get(RG, "ss-contract"))).statusCode).toBe(404);

    const report = await validateExchanges(w.emu.control.requestLog().slice(start));
    console.log(perSpecSummary(report));
    const failures = report.verdicts.filter((v) => v.isSuccessful !== true).map(explain);
    expect(failures, `${failures.length} of ${report.verdicts.length} exchanges break their contract:\n${failures.join("\n")}`).toEqual([]);
    const count = (name: string): number => report.perSpec.find((s) => s.contract === name)?.valid ?? 0;
    expect(count(COMPUTE)).toBeGreaterThan(0);
    expect(count(NETWORK)).toBeGreaterThan(0);
    const operations = new Set(report.verdicts.map((v) => v.operationId));
    for (const op of [
      "VirtualNetworks_CreateOrUpdate",
      "VirtualNetworks_Get",
      "Subnets_Get",
      "NetworkInterfaces_CreateOrUpdate",
      "NetworkInterfaces_Get",
      "NetworkInterfaces_Delete",
      "VirtualMachines_CreateOrUpdate",
      "VirtualMachines_Get",
      "VirtualMachines_List",
      "VirtualMachines_Delete",
      "VirtualMachineScaleSets_CreateOrUpdate",
      "VirtualMachineScaleSets_Get",
      "VirtualMachineScaleSets_List",
      "VirtualMachineScaleSets_Update",
      "VirtualMachineScaleSets_UpdateInstances",
      "VirtualMachineScaleSets_Delete",
      "VirtualMachineScaleSetVMs_List",
      "VirtualMachineScaleSetVMs_Get",
    ]) {
      expect(operations, `the session recorded no ${op} exchange`).toContain(op);
    }
    for (const status of [400, 404, 409])
      expect(
        report.verdicts.some((v) => v.exchange.status === status),
        `no ${status} validated`,
      ).toBe(true);
    expect(report.verdicts.filter((v) => v.contract === COMPUTE).every((v) => v.mappedApiVersion === "2026-04-01")).toBe(true);
    expect(report.verdicts.filter((v) => v.contract === NETWORK).every((v) => v.mappedApiVersion === "2026-01-01")).toBe(true);
  }, 120_000);
});
