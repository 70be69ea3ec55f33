// Which official spec covers which recorded ARM exchange. A contract is a set of swagger files (plus
// what they $ref) and the URL path families it answers for: every exchange in a family is validated
// against that contract, so an unknown path or verb inside a family fails instead of slipping through.
// Families the emulator serves whose spec is not vendored are named too, so a report can say how
// many exchanges went unvalidated and why, instead of lumping them with Entra and emulator routes.
import * as fs from "node:fs";
import * as path from "node:path";

export interface SpecContract {
  /** Printed in per-spec counts, e.g. "GalleryRP 2025-03-03". */
  name: string;
  /** Directory the swagger paths are relative to (mirrors azure-rest-api-specs for vendored specs). */
  specRoot: string;
  /** The swagger files oav loads (each plus its $refs), relative to specRoot. */
  swaggers: readonly string[];
  /** The api-version the loaded swaggers declare (info.version). */
  apiVersion: string;
  /** Recorded api-versions rewritten to `apiVersion` before validating ("any": every one). */
  mappedApiVersions: readonly string[] | "any";
  /** Whether the exchange's URL path (no query, no trailing slash) belongs to this contract. */
  covers(urlPath: string, query: URLSearchParams): boolean;
  /** A URL and the operation oav must find for it once loaded (oav skips a swagger it cannot load). */
  probe: { url: string; operationId: string };
  /** x-ms-enum names left extensible in the strict-enum copy, each for a reason given where it is set. */
  openEnums?: readonly string[];
  /** Response issues let through, each for a documented reason (README.md, "Tolerated"); reported, never silent. */
  toleratedResponseIssues?: readonly ToleratedIssue[];
}

/**
 * One oav response issue a contract lets through: `code` reported for `property` of the spec
 * definition `definition` (a property real traffic carries that no version of the spec defines).
 */
export interface ToleratedIssue {
  code: string;
  definition: string;
  property: string;
  reason: string;
}

/** A family the emulator serves that no loaded contract covers, with the reason. */
export interface UncoveredFamily {
  name: string;
  reason: string;
  matches(urlPath: string, query: URLSearchParams): boolean;
}

/** The repo root: the nearest directory above this module holding package.json (works from dist/ too). */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, "..", "..");
  }
}

// ---------------------------------------------------------------------------------------------
// Path helpers

const SUB = String.raw`^/subscriptions/[^/]+`;
const RG = String.raw`(?:/resourceGroups/[^/]+)?`;

/** Number of `/providers/` segments: a second one means an extension resource (a role assignment on a gallery). */
function providerSegments(p: string): number {
  return p.match(/\/providers\//gi)?.length ?? 0;
}

/** `/providers/{namespace}/{type}[/...]` with exactly one provider segment, at subscription or group scope. */
function resourceFamily(namespace: string, types: readonly string[], scope: "subscription" | "any" = "any"): (p: string) => boolean {
  const re = new RegExp(`${SUB}${scope === "any" ? RG : ""}/providers/${namespace.replace(".", "\\.")}/(?:${types.join("|")})(?:/.*)?$`, "i");
  return (p) => providerSegments(p) === 1 && re.test(p);
}

/** The namespace after the last `/providers/` (lower case): the provider that serves the URL. */
function lastProviderNamespace(p: string): string | undefined {
  const i = p.toLowerCase().lastIndexOf("/providers/");
  return i < 0
    ? undefined
    : p
        .slice(i + "/providers/".length)
        .split("/")[0]
        ?.toLowerCase();
}

const isMonitorPoll = (q: URLSearchParams): boolean => (q.get("monitor") ?? "").toLowerCase() === "true";

// ---------------------------------------------------------------------------------------------
// GalleryRP

export const GALLERY_API_VERSION = "2025-03-03";
/** The api-version @azure/arm-compute 25.x sends for gallery operations. */
export const SDK_GALLERY_API_VERSION = "2025-12-03";
export const GALLERY_SWAGGER = "specification/compute/resource-manager/Microsoft.Compute/GalleryRP/stable/2025-03-03/GalleryRP.json";

const galleryResources = resourceFamily("Microsoft.Compute", ["galleries"]);
// Consumer views: locations/{l}/sharedGalleries[/...] and locations/{l}/communityGalleries[/...].
const galleryLocationViews = resourceFamily("Microsoft.Compute", [String.raw`locations/[^/]+/(?:sharedGalleries|communityGalleries)`], "subscription");

/**
 * Microsoft.Compute galleries, images, versions, `galleries/{g}/share`, and the consumer views
 * `locations/{l}/sharedGalleries[...]` and `locations/{l}/communityGalleries[...]`.
 */
export function galleryContract(specRoot: string): SpecContract {
  return {
    name: `GalleryRP ${GALLERY_API_VERSION}`,
    specRoot,
    swaggers: [GALLERY_SWAGGER],
    apiVersion: GALLERY_API_VERSION,
    mappedApiVersions: [SDK_GALLERY_API_VERSION],
    covers: (p) => galleryResources(p) || galleryLocationViews(p),
    probe: {
      url: `/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g?api-version=${GALLERY_API_VERSION}`,
      operationId: "Galleries_Get",
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Authorization

export const AUTHORIZATION_API_VERSION = "2022-04-01";
const AUTHORIZATION_DIR = "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01";

/**
 * Microsoft.Authorization role assignments (any scope, also a gallery's), role definitions and
 * permissions. Everything whose last provider segment is Microsoft.Authorization is covered, so an
 * unsupported path there (e.g. permissions at subscription scope, which the swagger lacks) fails.
 */
export function authorizationContract(specRoot: string): SpecContract {
  return {
    name: `Authorization ${AUTHORIZATION_API_VERSION}`,
    specRoot,
    swaggers: [`${AUTHORIZATION_DIR}/authorization-RoleAssignmentsCalls.json`, `${AUTHORIZATION_DIR}/authorization-RoleDefinitionsCalls.json`],
    apiVersion: AUTHORIZATION_API_VERSION,
    mappedApiVersions: [],
    covers: (p) => lastProviderNamespace(p) === "microsoft.authorization",
    probe: {
      url: `/subscriptions/0/resourcegroups/rg/providers/Microsoft.Authorization/permissions?api-version=${AUTHORIZATION_API_VERSION}`,
      operationId: "Permissions_ListForResourceGroup",
    },
  };
}

// ---------------------------------------------------------------------------------------------
// ComputeRP: virtual machines and scale sets

export const COMPUTE_API_VERSION = "2023-07-01";
/** The api-version @azure/arm-compute 25.x sends for virtual machines and scale sets. */
export const SDK_COMPUTE_API_VERSION = "2026-04-01";
const COMPUTE_DIR = "specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2023-07-01";

/**
 * Microsoft.Compute virtualMachines and virtualMachineScaleSets (their instances, instance views,
 * `manualupgrade`, anything below them). The SDK's 2026-04-01 is validated as 2023-07-01, the newest
 * split ComputeRP swagger that could be vendored unmodified (see README.md).
 */
export function computeContract(specRoot: string): SpecContract {
  return {
    name: `ComputeRP ${COMPUTE_API_VERSION}`,
    specRoot,
    swaggers: [`${COMPUTE_DIR}/virtualMachine.json`, `${COMPUTE_DIR}/virtualMachineScaleSet.json`],
    apiVersion: COMPUTE_API_VERSION,
    mappedApiVersions: [SDK_COMPUTE_API_VERSION],
    covers: resourceFamily("Microsoft.Compute", ["virtualMachines", "virtualMachineScaleSets"]),
    // hardwareProfile.vmSize: the swagger calls its size list deprecated (use the sizes APIs); real
    // sizes such as Standard_D2s_v5 are not in it, so this one enum stays extensible.
    openEnums: ["VirtualMachineSizeTypes"],
    probe: {
      url: `/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/s/virtualMachines/0?api-version=${COMPUTE_API_VERSION}`,
      operationId: "VirtualMachineScaleSetVMs_Get",
    },
  };
}

// ---------------------------------------------------------------------------------------------
// NetworkRP: network interfaces and virtual networks

export const NETWORK_API_VERSION = "2023-05-01";
/** The api-version @azure/arm-network 39.0.0 sends. */
export const SDK_NETWORK_API_VERSION = "2026-01-01";
const NETWORK_DIR = "specification/network/resource-manager/Microsoft.Network/stable/2023-05-01";

/**
 * Microsoft.Network networkInterfaces and virtualNetworks (with subnets). The SDK's 2026-01-01 is
 * validated as 2023-05-01, the NetworkRP version that could be vendored unmodified (see README.md).
 */
export function networkContract(specRoot: string): SpecContract {
  return {
    name: `NetworkRP ${NETWORK_API_VERSION}`,
    specRoot,
    swaggers: [`${NETWORK_DIR}/networkInterface.json`, `${NETWORK_DIR}/virtualNetwork.json`],
    apiVersion: NETWORK_API_VERSION,
    mappedApiVersions: [SDK_NETWORK_API_VERSION],
    covers: resourceFamily("Microsoft.Network", ["networkInterfaces", "virtualNetworks"]),
    toleratedResponseIssues: [
      {
        code: "OBJECT_ADDITIONAL_PROPERTIES",
        definition: "NetworkInterfacePropertiesFormat",
        property: "allowPort25Out",
        reason: "real NIC answers carry it, but no NetworkRP swagger defines it (not even 2026-01-01: @azure/arm-network 39 has no such property)",
      },
    ],
    probe: {
      url: `/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s?api-version=${NETWORK_API_VERSION}`,
      operationId: "Subnets_Get",
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Operation-status polls (no official spec defines these URLs: see operationStatus.json)

export const OPERATION_STATUS_SWAGGER = "local/contract/operationStatus.json";
export const OPERATION_STATUS_API_VERSION = "2000-01-01";
const STATUS_POLL = new RegExp(
  String.raw`${SUB}/providers/(?:Microsoft\.Compute/locations/[^/]+/(?:capsOperations|operations)|Microsoft\.Network/locations/[^/]+/operations)/[^/]+$`,
  "i",
);

/**
 * Azure-AsyncOperation polls of Compute (`capsOperations`, `operations`) and Network (`operations`),
 * typed with ARM's common OperationStatusResult. Location polls (`monitor=true`, Network
 * `operationResults`) answer with the original operation's result instead and are not covered.
 */
export function operationStatusContract(root: string): SpecContract {
  return {
    name: "ARM operation status (common-types v3 OperationStatusResult)",
    specRoot: root,
    swaggers: [OPERATION_STATUS_SWAGGER],
    apiVersion: OPERATION_STATUS_API_VERSION,
    mappedApiVersions: "any",
    covers: (p, q) => STATUS_POLL.test(p) && !isMonitorPoll(q),
    probe: {
      url: `/subscriptions/0/providers/Microsoft.Compute/locations/westeurope/capsOperations/1?api-version=${OPERATION_STATUS_API_VERSION}`,
      operationId: "ComputeCapsOperations_GetStatus",
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Families served by the emulator without a vendored spec

export const UNCOVERED_FAMILIES: readonly UncoveredFamily[] = [
  {
    name: "Location polls (monitor=true, Network operationResults)",
    reason: "answered with the originating operation's result, which no spec ties to the poll URL",
    matches: (p, q) =>
      (STATUS_POLL.test(p) && isMonitorPoll(q)) || new RegExp(`${SUB}/providers/Microsoft\\.Network/locations/[^/]+/operationResults/[^/]+$`, "i").test(p),
  },
];

export interface ContractSet {
  contracts: readonly SpecContract[];
  uncovered: readonly UncoveredFamily[];
}

/** The contracts of this repository: GalleryRP (spec root overridable), Authorization, ComputeRP, NetworkRP, operation status. */
export function defaultContracts(gallerySpecRoot?: string): ContractSet {
  const root = repoRoot();
  return {
    contracts: [
      galleryContract(gallerySpecRoot ?? path.join(root, "specs", "compute-gallery")),
      authorizationContract(path.join(root, "specs", "authorization")),
      computeContract(path.join(root, "specs", "compute-vm")),
      networkContract(path.join(root, "specs", "network")),
      operationStatusContract(root),
    ],
    uncovered: UNCOVERED_FAMILIES,
  };
}

/** The URL's path (no trailing slash, duplicate slashes collapsed: SDKs send `//subscriptions` for a scope that starts with `/`) and query. */
export function splitUrl(url: string): { urlPath: string; query: URLSearchParams } {
  try {
    const u = new URL(/^https?:\/\//i.test(url) ? url : `https://management.azure.com/${url.replace(/^\/+/, "")}`);
    return { urlPath: u.pathname.replace(/\/{2,}/g, "/").replace(/\/+$/, ""), query: u.searchParams };
  } catch {
    return { urlPath: "", query: new URLSearchParams() };
  }
}
