// Azure regions: ARM accepts a location as its name ("eastus2") or display name ("East US 2"),
// stores the name, and Compute galleries report target regions by display name.

const REGIONS: ReadonlyArray<readonly [name: string, displayName: string]> = [
  ["eastus", "East US"],
  ["eastus2", "East US 2"],
  ["westus", "West US"],
  ["westus2", "West US 2"],
  ["westus3", "West US 3"],
  ["centralus", "Central US"],
  ["northcentralus", "North Central US"],
  ["southcentralus", "South Central US"],
  ["westcentralus", "West Central US"],
  ["canadacentral", "Canada Central"],
  ["canadaeast", "Canada East"],
  ["brazilsouth", "Brazil South"],
  ["northeurope", "North Europe"],
  ["westeurope", "West Europe"],
  ["uksouth", "UK South"],
  ["ukwest", "UK West"],
  ["francecentral", "France Central"],
  ["germanywestcentral", "Germany West Central"],
  ["switzerlandnorth", "Switzerland North"],
  ["norwayeast", "Norway East"],
  ["swedencentral", "Sweden Central"],
  ["polandcentral", "Poland Central"],
  ["italynorth", "Italy North"],
  ["spaincentral", "Spain Central"],
  ["uaenorth", "UAE North"],
  ["southafricanorth", "South Africa North"],
  ["centralindia", "Central India"],
  ["southindia", "South India"],
  ["eastasia", "East Asia"],
  ["southeastasia", "Southeast Asia"],
  ["japaneast", "Japan East"],
  ["japanwest", "Japan West"],
  ["koreacentral", "Korea Central"],
  ["australiaeast", "Australia East"],
  ["australiasoutheast", "Australia Southeast"],
  ["centraluseuap", "Central US EUAP"],
  ["eastus2euap", "East US 2 EUAP"],
];

export interface Region {
  readonly name: string;
  readonly displayName: string;
}

const byKey = new Map<string, Region>();
for (const [name, displayName] of REGIONS) {
  const region = { name, displayName };
  byKey.set(name, region);
  byKey.set(displayName.toLowerCase().replace(/\s+/g, ""), region);
}

/** Resolves "eastus2", "East US 2", "EastUS2" (any case) to the region; undefined if unknown. */
export function findRegion(input: string): Region | undefined {
  return byKey.get(input.toLowerCase().replace(/\s+/g, ""));
}

export function allRegionNames(): string[] {
  return REGIONS.map(([, displayName]) => displayName.toLowerCase());
}
