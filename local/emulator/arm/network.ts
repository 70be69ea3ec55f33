// Microsoft.Network: virtual networks (with inline subnets) and network interfaces, the minimum a
// VM needs. A NIC's subnet must exist and be in the NIC's region, as the Network RP requires.
import { isAllowed, requireAction } from "../authz";
import { callerOf, type Caller, type Ctx } from "../context";
import { arr, at, obj, str, type EmuRequest, type EmuResponse, type JsonObject } from "../http";
import type { Route } from "../router";
import { key, type NetworkInterface, type VirtualNetwork } from "../store";
import { json, lroResponse, pick, requireRegion, requireResourceGroup, startOperation, tagsOf } from "./common";
import { ArmError, errors } from "./errors";

function vnetStore(ctx: Ctx): Map<string, VirtualNetwork> {
  return ctx.core.world.virtualNetworks;
}

const rgPath = (sub: string, rg: string): string => `/subscriptions/${sub}/resourceGroups/${rg}`;
const vnetId = (v: Pick<VirtualNetwork, "subscriptionId" | "resourceGroup" | "name">): string =>
  `${rgPath(v.subscriptionId, v.resourceGroup)}/providers/Microsoft.Network/virtualNetworks/${v.name}`;
export const nicId = (n: Pick<NetworkInterface, "subscriptionId" | "resourceGroup" | "name">): string =>
  `${rgPath(n.subscriptionId, n.resourceGroup)}/providers/Microsoft.Network/networkInterfaces/${n.name}`;

function etag(ctx: Ctx, id: string): string {
  return `W/"${ctx.core.guid("etag", id.toLowerCase(), String(ctx.core.clock.now()))}"`;
}

function vnetView(ctx: Ctx, v: VirtualNetwork): JsonObject {
  const id = vnetId(v);
  return {
    name: v.name,
    id,
    etag: etag(ctx, id),
    type: "Microsoft.Network/virtualNetworks",
    location: v.location,
    ...(v.tags ? { tags: v.tags } : {}),
    properties: {
      provisioningState: "Succeeded",
      resourceGuid: v.resourceGuid,
      addressSpace: { addressPrefixes: v.addressPrefixes },
      subnets: v.subnets.map((s) => subnetView(ctx, v, s)),
      virtualNetworkPeerings: [],
      enableDdosProtection: false,
    },
  };
}

function subnetView(ctx: Ctx, v: VirtualNetwork, s: { name: string; addressPrefix: string }): JsonObject {
  const id = `${vnetId(v)}/subnets/${s.name}`;
  return {
    name: s.name,
    id,
    etag: etag(ctx, id),
    properties: {
      provisioningState: "Succeeded",
      addressPrefix: s.addressPrefix,
      delegations: [],
      privateEndpointNetworkPolicies: "Disabled",
      privateLinkServiceNetworkPolicies: "Enabled",
    },
    type: "Microsoft.Network/virtualNetworks/subnets",
  };
}

function p(req: EmuRequest, name: string): string {
  return req.params[name] ?? "";
}

function putVnet(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = p(req, "subscriptionId");
  const rgName = p(req, "resourceGroupName");
  const name = p(req, "virtualNetworkName");
  requireAction(ctx, callerOf(ctx), "Microsoft.Network/virtualNetworks/write", vnetId({ subscriptionId: sub, resourceGroup: rgName, name }));
  const rg = requireResourceGroup(ctx, sub, rgName);
  const b = obj(req.body) ?? {};
  const region = requireRegion(b.location, "Microsoft.Network/virtualNetworks");
  const prefixes = (arr(at(b, "properties", "addressSpace", "addressPrefixes")) ?? []).filter((x): x is string => typeof x === "string");
  if (prefixes.length === 0)
    throw new ArmError(400, "InvalidRequestFormat", "Cannot parse the request: 'properties.addressSpace.addressPrefixes' is required.");
  const subnets = (arr(at(b, "properties", "subnets")) ?? []).map((s, i) => {
    const sname = str(at(s, "name"));
    const prefix = str(at(s, "properties", "addressPrefix"));
    if (!sname || !prefix)
      throw new ArmError(400, "InvalidRequestFormat", `Cannot parse the request: subnet ${i} needs 'name' and 'properties.addressPrefix'.`);
    return { name: sname, addressPrefix: prefix };
  });
  const store = vnetStore(ctx);
  const k = key(sub, rgName, name);
  const existing = store.get(k);
  const tags = tagsOf(b.tags);
  const v: VirtualNetwork = {
    subscriptionId: sub.toLowerCase(),
    resourceGroup: rg.name,
    name,
    location: region.name,
    addressPrefixes: prefixes,
    subnets,
    resourceGuid: existing?.resourceGuid ?? ctx.core.guid("vnet", k),
    ...(tags ? { tags } : {}),
  };
  store.set(k, v);
  const op = startOperation(ctx, { family: "network", subscriptionId: v.subscriptionId, location: v.location, durationMs: 1_000 });
  return lroResponse(ctx, op, existing ? 200 : 201, vnetView(ctx, v));
}

function findVnet(ctx: Ctx, sub: string, rg: string, name: string): VirtualNetwork {
  requireResourceGroup(ctx, sub, rg);
  const v = vnetStore(ctx).get(key(sub, rg, name));
  if (!v) throw errors.resourceNotFound("Microsoft.Network/virtualNetworks", name, rg);
  return v;
}

function getVnet(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = p(req, "subscriptionId");
  const rg = p(req, "resourceGroupName");
  const name = p(req, "virtualNetworkName");
  requireAction(ctx, callerOf(ctx), "Microsoft.Network/virtualNetworks/read", vnetId({ subscriptionId: sub, resourceGroup: rg, name }));
  return json(200, vnetView(ctx, findVnet(ctx, sub, rg, name)));
}

function getSubnet(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = p(req, "subscriptionId");
  const rg = p(req, "resourceGroupName");
  const name = p(req, "virtualNetworkName");
  const subnet = p(req, "subnetName");
  requireAction(
    ctx,
    callerOf(ctx),
    "Microsoft.Network/virtualNetworks/subnets/read",
    `${vnetId({ subscriptionId: sub, resourceGroup: rg, name })}/subnets/${subnet}`,
  );
  const v = findVnet(ctx, sub, rg, name);
  const s = v.subnets.find((x) => x.name.toLowerCase() === subnet.toLowerCase());
  if (!s) throw new ArmError(404, "NotFound", `Resource ${vnetId(v)}/subnets/${subnet} not found.`);
  return json(200, subnetView(ctx, v, s));
}

/** Finds the subnet an id points at, or undefined. */
export function resolveSubnet(ctx: Ctx, subnetId: string): { vnet: VirtualNetwork; name: string } | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i.exec(subnetId);
  if (!m) return undefined;
  const vnet = vnetStore(ctx).get(key(m[1] ?? "", m[2] ?? "", m[3] ?? ""));
  const name = m[4] ?? "";
  return vnet && vnet.subnets.some((s) => s.name.toLowerCase() === name.toLowerCase()) ? { vnet, name } : undefined;
}

export function nicView(ctx: Ctx, n: NetworkInterface): JsonObject {
  const id = nicId(n);
  const attachedVm = [...ctx.core.world.virtualMachines.values()].find((vm) =>
    (arr(at(vm.properties, "networkProfile", "networkInterfaces")) ?? []).some((x) => str(at(x, "id"))?.toLowerCase() === id.toLowerCase()),
  );
  const ipConfigurations = (arr(n.properties.ipConfigurations) ?? []).map((c, i) => {
    const cname = str(at(c, "name")) ?? `ipconfig${i + 1}`;
    const cid = `${id}/ipConfigurations/${cname}`;
    return {
      name: cname,
      id: cid,
      etag: etag(ctx, cid),
      type: "Microsoft.Network/networkInterfaces/ipConfigurations",
      properties: {
        provisioningState: "Succeeded",
        privateIPAddress: str(at(c, "properties", "privateIPAddress")) ?? `10.0.0.${4 + i}`,
        privateIPAllocationMethod: str(at(c, "properties", "privateIPAllocationMethod")) ?? "Dynamic",
        subnet: { id: str(at(c, "properties", "subnet", "id")) ?? "" },
        ...pick(obj(at(c, "properties")), ["publicIPAddress"]),
        primary: i === 0,
        privateIPAddressVersion: "IPv4",
      },
    };
  });
  return {
    name: n.name,
    id,
    etag: etag(ctx, id),
    type: "Microsoft.Network/networkInterfaces",
    location: n.location,
    ...(n.tags ? { tags: n.tags } : {}),
    properties: {
      provisioningState: n.provisioning.state,
      resourceGuid: n.resourceGuid,
      ipConfigurations,
      dnsSettings: { dnsServers: [], appliedDnsServers: [] },
      enableAcceleratedNetworking: n.properties.enableAcceleratedNetworking === true,
      vnetEncryptionSupported: false,
      enableIPForwarding: false,
      ...(attachedVm
        ? {
            virtualMachine: {
              id: `/subscriptions/${attachedVm.subscriptionId}/resourceGroups/${attachedVm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${attachedVm.name}`,
            },
          }
        : {}),
      hostedWorkloads: [],
      tapConfigurations: [],
      nicType: "Standard",
      allowPort25Out: false,
      auxiliaryMode: "None",
      auxiliarySku: "None",
    },
  };
}

function putNic(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = p(req, "subscriptionId");
  const rgName = p(req, "resourceGroupName");
  const name = p(req, "networkInterfaceName");
  const id = nicId({ subscriptionId: sub, resourceGroup: rgName, name });
  requireAction(ctx, callerOf(ctx), "Microsoft.Network/networkInterfaces/write", id);
  const rg = requireResourceGroup(ctx, sub, rgName);
  const b = obj(req.body) ?? {};
  const region = requireRegion(b.location, "Microsoft.Network/networkInterfaces");
  const configs = arr(at(b, "properties", "ipConfigurations")) ?? [];
  if (configs.length === 0)
    throw new ArmError(400, "NetworkInterfaceMustHaveAtLeastOneIpConfiguration", `Network interface ${id} must have at least one IP configuration.`);
  for (const c of configs) {
    const subnetId = str(at(c, "properties", "subnet", "id"));
    const subnet = subnetId ? resolveSubnet(ctx, subnetId) : undefined;
    if (!subnetId || !subnet || subnet.vnet.location !== region.name) {
      throw new ArmError(
        400,
        "InvalidResourceReference",
        `Resource ${subnetId ?? "(no subnet id)"} referenced by resource ${id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
      );
    }
    requireSubnetJoin(ctx, callerOf(ctx), "Microsoft.Network/networkInterfaces/write", id, subnetId);
  }
  const k = key(sub, rgName, name);
  const existing = ctx.core.world.networkInterfaces.get(k);
  if (existing && existing.location !== region.name) throw errors.invalidResourceLocation(name, existing.location, rgName, region.name);
  const tags = tagsOf(b.tags);
  const n: NetworkInterface = {
    subscriptionId: sub.toLowerCase(),
    resourceGroup: rg.name,
    name,
    location: region.name,
    properties: pick(obj(b.properties), ["ipConfigurations", "enableAcceleratedNetworking", "networkSecurityGroup", "dnsSettings"]),
    resourceGuid: existing?.resourceGuid ?? ctx.core.guid("nic", k),
    provisioning: { state: "Succeeded" },
    ...(tags ? { tags } : {}),
  };
  ctx.core.world.networkInterfaces.set(k, n);
  const op = startOperation(ctx, { family: "network", subscriptionId: n.subscriptionId, location: n.location, durationMs: 1_000 });
  return lroResponse(ctx, op, existing ? 200 : 201, nicView(ctx, n));
}

function findNic(ctx: Ctx, sub: string, rg: string, name: string): NetworkInterface {
  requireResourceGroup(ctx, sub, rg);
  const n = ctx.core.world.networkInterfaces.get(key(sub, rg, name));
  if (!n) throw errors.resourceNotFound("Microsoft.Network/networkInterfaces", name, rg);
  return n;
}

function getNic(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = p(req, "subscriptionId");
  const rg = p(req, "resourceGroupName");
  const name = p(req, "networkInterfaceName");
  requireAction(ctx, callerOf(ctx), "Microsoft.Network/networkInterfaces/read", nicId({ subscriptionId: sub, resourceGroup: rg, name }));
  return json(200, nicView(ctx, findNic(ctx, sub, rg, name)));
}

function deleteNic(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = p(req, "subscriptionId");
  const rg = p(req, "resourceGroupName");
  const name = p(req, "networkInterfaceName");
  requireAction(ctx, callerOf(ctx), "Microsoft.Network/networkInterfaces/delete", nicId({ subscriptionId: sub, resourceGroup: rg, name }));
  requireResourceGroup(ctx, sub, rg);
  const k = key(sub, rg, name);
  const n = ctx.core.world.networkInterfaces.get(k);
  if (!n) return { status: 204 };
  const view = nicView(ctx, n);
  const vm = at(view, "properties", "virtualMachine", "id");
  if (typeof vm === "string") {
    throw new ArmError(
      400,
      "NicInUse",
      `Network Interface ${nicId(n)} is used by existing resource ${vm}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`,
    );
  }
  ctx.core.world.networkInterfaces.delete(k);
  const op = startOperation(ctx, { family: "network", subscriptionId: n.subscriptionId, location: n.location, durationMs: 1_000 });
  return lroResponse(ctx, op, 202, undefined, { location: true });
}

const SUBNET_JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action";

/**
 * Joining a subnet is a linked action: without `…/subnets/join/action` on the subnet, ARM answers
 * 403 LinkedAuthorizationFailed naming the write and the subnet (as for NSG / route-table joins).
 */
function requireSubnetJoin(ctx: Ctx, caller: Caller, writeAction: string, resourceId: string, subnetId: string): void {
  if (!isAllowed(ctx.core, caller.objectId, SUBNET_JOIN, subnetId))
    throw errors.linkedPermissionMissing(caller.objectId, caller.appId, writeAction, resourceId, SUBNET_JOIN, subnetId);
}

/**
 * NIC configurations a VM or scale set creates its own NICs from
 * (`networkProfile.networkInterfaceConfigurations[].properties.ipConfigurations[].properties.subnet.id`):
 * every subnet must exist in the resource's region and be joinable by the caller.
 */
export function checkNicConfigurations(ctx: Ctx, caller: Caller, configs: unknown[], region: string, resourceId: string, writeAction: string): void {
  for (const cfg of configs) {
    const ipConfigs = arr(at(cfg, "properties", "ipConfigurations")) ?? [];
    if (ipConfigs.length === 0) {
      throw errors.invalidParameter(
        `Network interface configuration '${str(at(cfg, "name")) ?? ""}' must have at least one IP configuration.`,
        "networkInterfaceConfigurations.ipConfigurations",
      );
    }
    for (const ip of ipConfigs) {
      const subnetId = str(at(ip, "properties", "subnet", "id"));
      const subnet = subnetId ? resolveSubnet(ctx, subnetId) : undefined;
      if (!subnetId || !subnet || subnet.vnet.location !== region) {
        throw new ArmError(
          400,
          "InvalidResourceReference",
          `Resource ${subnetId ?? "(no subnet id)"} referenced by resource ${resourceId} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
        );
      }
      requireSubnetJoin(ctx, caller, writeAction, resourceId, subnetId);
    }
  }
}

export function findNicById(ctx: Ctx, id: string): NetworkInterface | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/networkInterfaces\/([^/]+)$/i.exec(id);
  return m ? ctx.core.world.networkInterfaces.get(key(m[1] ?? "", m[2] ?? "", m[3] ?? "")) : undefined;
}

export function networkRoutes(): Route<Ctx>[] {
  const rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network";
  const r = (method: string, pattern: string, family: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({
    method,
    pattern,
    kind: "arm",
    family,
    handler,
  });
  return [
    r("PUT", `${rg}/virtualNetworks/{virtualNetworkName}`, "virtualNetworks", putVnet),
    r("GET", `${rg}/virtualNetworks/{virtualNetworkName}`, "virtualNetworks", getVnet),
    r("GET", `${rg}/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}`, "virtualNetworks", getSubnet),
    r("PUT", `${rg}/networkInterfaces/{networkInterfaceName}`, "networkInterfaces", putNic),
    r("GET", `${rg}/networkInterfaces/{networkInterfaceName}`, "networkInterfaces", getNic),
    r("DELETE", `${rg}/networkInterfaces/{networkInterfaceName}`, "networkInterfaces", deleteNic),
  ];
}
