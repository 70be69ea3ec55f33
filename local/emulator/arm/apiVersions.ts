// Api-versions accepted per resource type. The SDKs installed here send: @azure/arm-compute 25.1.1
// 2025-12-03 (galleries) and 2026-04-01 (virtual machines); @azure/arm-network 39.0.0 2026-01-01;
// @azure/arm-authorization 9.0.0 2022-04-01; the GalleryRP contract is 2025-03-03. Older versions
// that exist in Azure are accepted too; anything else is refused as ARM refuses it.
import { errors } from "./errors";

export interface ApiFamily {
  /** Resource type as ARM names it in NoRegisteredProviderFound. */
  type: string;
  versions: readonly string[];
}

const GALLERY = ["2021-07-01", "2021-10-01", "2022-01-03", "2022-03-03", "2022-08-03", "2023-07-03", "2024-03-03", "2025-03-03", "2025-12-03"];
const VM = ["2022-08-01", "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01", "2026-04-01"];
const NETWORK = [
  "2023-04-01",
  "2023-05-01",
  "2023-06-01",
  "2023-09-01",
  "2023-11-01",
  "2024-01-01",
  "2024-03-01",
  "2024-05-01",
  "2024-07-01",
  "2024-10-01",
  "2025-01-01",
  "2025-03-01",
  "2025-05-01",
  "2026-01-01",
];
const RESOURCES = [
  "2019-10-01",
  "2020-06-01",
  "2021-01-01",
  "2021-04-01",
  "2022-01-01",
  "2022-09-01",
  "2022-12-01",
  "2023-07-01",
  "2024-03-01",
  "2024-07-01",
  "2024-11-01",
  "2025-01-01",
  "2025-03-01",
  "2025-04-01",
];
const ROLE_ASSIGNMENTS = [
  "2015-07-01",
  "2018-01-01-preview",
  "2018-09-01-preview",
  "2020-03-01-preview",
  "2020-04-01-preview",
  "2020-08-01-preview",
  "2020-10-01-preview",
  "2022-01-01-preview",
  "2022-04-01",
];
const ROLE_DEFINITIONS = ["2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview"];

export const API_FAMILIES: Record<string, ApiFamily> = {
  galleries: { type: "galleries", versions: GALLERY },
  sharedGalleries: { type: "locations/sharedGalleries", versions: GALLERY },
  capsOperations: { type: "locations/capsOperations", versions: GALLERY },
  virtualMachines: { type: "virtualMachines", versions: VM },
  virtualMachineScaleSets: { type: "virtualMachineScaleSets", versions: VM },
  computeOperations: { type: "locations/operations", versions: [...new Set([...VM, ...GALLERY])] },
  networkInterfaces: { type: "networkInterfaces", versions: NETWORK },
  virtualNetworks: { type: "virtualNetworks", versions: NETWORK },
  networkOperations: { type: "locations/operations", versions: NETWORK },
  communityGalleries: { type: "locations/communityGalleries", versions: GALLERY },
  resourceGroups: { type: "resourceGroups", versions: RESOURCES },
  subscriptions: { type: "subscriptions", versions: RESOURCES },
  roleAssignments: { type: "roleAssignments", versions: ROLE_ASSIGNMENTS },
  roleDefinitions: { type: "roleDefinitions", versions: ROLE_DEFINITIONS },
  permissions: { type: "permissions", versions: ROLE_DEFINITIONS },
};

const WELL_FORMED = /^\d{4}-\d{2}-\d{2}(-(preview|beta|alpha|privatepreview))?$/i;

/** Returns the api-version or throws MissingApiVersionParameter / InvalidApiVersionParameter / NoRegisteredProviderFound. */
export function checkApiVersion(apiVersion: string | undefined, familyName: string, location: string, locations: readonly string[]): string {
  const family = API_FAMILIES[familyName];
  if (!family) throw new Error(`unknown api family ${familyName}`);
  if (apiVersion === undefined || apiVersion === "") throw errors.missingApiVersion();
  if (!WELL_FORMED.test(apiVersion)) throw errors.invalidApiVersion(apiVersion, family.versions);
  if (!family.versions.includes(apiVersion.toLowerCase())) {
    throw errors.noRegisteredProvider(location, apiVersion, family.type, [...family.versions].reverse(), locations);
  }
  return apiVersion;
}
