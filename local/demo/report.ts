// Formatting for the demo's live view and summary.

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

export function progressBar(percent: number, width = 30): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

const KINDS: Array<[RegExp, string]> = [
  [/\/oauth2\/v2\.0\/token/i, "Entra token"],
  [/\/(\.well-known|discovery)\//i, "Entra discovery"],
  [/\/adminconsent\?/i, "Entra admin consent (the customer's browser)"],
  [/\/versions\/[^/?]+\?.*expand=ReplicationStatus/i, "image version read (replication status)"],
  [/\/sharedGalleries\/[^/]+\/images\/[^/]+\/versions\/[^/?]+\?/i, "shared image version read (consumer side)"],
  [/\/sharedGalleries\/[^/]+\/images\/[^/]+\/versions\?/i, "shared image versions list (consumer side)"],
  [/\/sharedGalleries\/[^/]+\/images\?/i, "shared images list (consumer side)"],
  [/\/sharedGalleries\?/i, "shared galleries list (consumer side)"],
  [/\/galleries\/[^/]+\/images\/[^/]+\/versions\/[^/?]+\?/i, "image version read"],
  [/\/galleries\/[^/]+\/images\/[^/]+\/versions\?/i, "image versions list"],
  [/\/galleries\/[^/]+\/images\?/i, "images list"],
  [/\/galleries\/[^/?]+\/share\?/i, "gallery share (POST)"],
  [/\/galleries\/[^/?]+\?/i, "gallery read"],
  [/\/providers\/Microsoft\.Authorization\/roleAssignments\//i, "role assignment"],
  [/\/providers\/Microsoft\.Authorization\/permissions\?/i, "permissions list (consumer resource group)"],
  [/\/virtualMachineScaleSets\/[^/?]+\?/i, "scale set"],
  [/\/virtualMachines\/[^/?]+\?/i, "virtual machine"],
  [/\/networkInterfaces\/[^/?]+\?/i, "network interface"],
  [/\/msi\/token\?/i, "managed identity token"],
  [/\/(capsOperations|operations)\//i, "long-running operation poll"],
  [/\/_eventgrid\//i, "outcome event publish"],
];

/** Counts logged exchanges by kind, most frequent first (role assignments, VMs, NICs and scale sets by method: PUT creates, GET reads, DELETE removes). */
export function callsByKind(log: ReadonlyArray<{ method: string; url: string; status: number }>): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const x of log) {
    const found = KINDS.find(([re]) => re.test(x.url))?.[1];
    // A PATCH of a version changes its excludeFromLatest (a promotion or a revocation), not a read.
    const known = found === "image version read" && x.method === "PATCH" ? "image version update (excludeFromLatest)" : found;
    const byMethod = known === "role assignment" || known === "scale set" || known === "virtual machine" || known === "network interface";
    const kind = byMethod ? `${known} ${x.method}` : (known ?? `${x.method} ${new URL(x.url, "https://x").pathname.split("/").slice(-2).join("/")}`);
    const label = x.status >= 400 ? `${kind} -> ${x.status}` : kind;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}
