// Merges the pending share-change requests for one gallery into one Remove and one Add call.
// The share call is throttled per subscription (see shareBudget.ts), so requests that arrive
// close together are coalesced rather than each making its own calls. Each request is
// all-or-nothing: one that would break Azure's direct-sharing limits, or names an invalid id, is
// rejected on its own and the others still go through.

import { DEFAULT_SHARE_LIMITS, shareOperations, type SharePlan } from "./sharePlan";
import { isGuid, quoteForError } from "./validation";

interface ShareIds {
  readonly subscriptionIds?: readonly string[];
  readonly tenantIds?: readonly string[];
}

/** The ids the gallery's sharing profile holds now. */
interface CurrentGroups {
  readonly subscriptionIds: readonly string[];
  readonly tenantIds: readonly string[];
}

export interface ShareChangeRequest {
  readonly requestId: string;
  readonly add?: ShareIds;
  readonly remove?: ShareIds;
}

export interface ShareRequestResult {
  requestId: string;
  result: "applied" | "rejected";
  /** Why a request was rejected: starts with the rule broken. */
  reason?: string;
}

export interface MergedShareChanges {
  /** All ids lower-case; `unchanged` is what is shared now and stays shared. */
  plan: SharePlan;
  /** Remove first, then Add: at most one of each, [] when nothing changes. */
  operations: ReturnType<typeof shareOperations>;
  /** One per request, in the order given. */
  results: ShareRequestResult[];
}

type Kind = "subscription" | "tenant";
const KINDS: readonly Kind[] = ["subscription", "tenant"];
const FIELD: Record<Kind, "subscriptionIds" | "tenantIds"> = { subscription: "subscriptionIds", tenant: "tenantIds" };

type Held = Record<Kind, Set<string>>;

const normalize = (id: string): string => id.trim().toLowerCase();

function describeValue(value: unknown): string {
  return typeof value === "string" ? quoteForError(value) : value === null ? "null" : `a ${typeof value}`;
}

/** Invalid ids and ids the request both adds and removes: either makes its intent unclear. */
function requestProblems(request: ShareChangeRequest): string[] {
  const problems: string[] = [];
  if (typeof request.requestId !== "string" || request.requestId.trim() === "") problems.push("invalid-request: requestId must be a non-empty string");
  const invalid: string[] = [];
  for (const op of ["add", "remove"] as const) {
    for (const kind of KINDS) {
      (request[op]?.[FIELD[kind]] ?? []).forEach((id: unknown, i) => {
        if (typeof id !== "string" || !isGuid(id.trim())) invalid.push(`${op}.${FIELD[kind]}[${i}] is ${describeValue(id)}`);
      });
    }
  }
  if (invalid.length > 0) problems.push(`invalid-id: subscription and tenant ids must be GUIDs: ${invalid.join(", ")}`);
  else {
    for (const kind of KINDS) {
      const removed = new Set((request.remove?.[FIELD[kind]] ?? []).map(normalize));
      const both = [...new Set((request.add?.[FIELD[kind]] ?? []).map(normalize))].filter((id) => removed.has(id));
      if (both.length > 0) problems.push(`add-and-remove: the request both adds and removes ${kind}(s) ${both.join(", ")}`);
    }
  }
  return problems;
}

const ADVICE: Record<Kind, string> = {
  subscription: "share with the subscriptions' tenant instead (that covers all its subscriptions), or use rbac mode for more",
  tenant: "use rbac mode to share with more tenants",
};

function limitProblem(kind: Kind, before: Set<string>, after: Set<string>, added: string[], limit: number, now: number): string | undefined {
  // Only an addition needs a new slot: a request that adds nothing never pushes a gallery over.
  if (added.length === 0 || after.size <= limit) return undefined;
  const rule = `${kind}-limit`;
  const held = before.size === now ? `the gallery has ${now} now` : `the gallery has ${now} now and ${before.size} with the requests before this one`;
  return `${rule}: adding ${added.length} ${kind}(s) (${added.join(", ")}) would make ${after.size} ${kind}s, over the limit of ${limit} per gallery; ${held}; ${ADVICE[kind]}`;
}

/**
 * Applies `requests` in arrival order to the gallery's `current` groups: a later request wins over
 * an earlier one for the same id, and each limit is counted against what the gallery would hold
 * with the applied requests before it.
 */
export function mergeShareRequests(current: CurrentGroups, requests: readonly ShareChangeRequest[], limits = DEFAULT_SHARE_LIMITS): MergedShareChanges {
  const initial: Held = { subscription: new Set(current.subscriptionIds.map(normalize)), tenant: new Set(current.tenantIds.map(normalize)) };
  let held: Held = { subscription: new Set(initial.subscription), tenant: new Set(initial.tenant) };
  const max: Record<Kind, number> = { subscription: limits.maxSubscriptions, tenant: limits.maxTenants };
  const results: ShareRequestResult[] = [];

  for (const request of requests) {
    const problems = requestProblems(request);
    const next: Held = { subscription: new Set(held.subscription), tenant: new Set(held.tenant) };
    if (problems.length === 0) {
      for (const kind of KINDS) {
        for (const id of request.remove?.[FIELD[kind]] ?? []) next[kind].delete(normalize(id));
        const added = [...new Set((request.add?.[FIELD[kind]] ?? []).map(normalize))].filter((id) => !held[kind].has(id));
        for (const id of added) next[kind].add(id);
        const problem = limitProblem(kind, held[kind], next[kind], added, max[kind], initial[kind].size);
        if (problem !== undefined) problems.push(problem);
      }
    }
    if (problems.length > 0) {
      results.push({ requestId: request.requestId, result: "rejected", reason: problems.join("; ") });
    } else {
      held = next;
      results.push({ requestId: request.requestId, result: "applied" });
    }
  }

  const diff = (kind: Kind) => ({
    add: [...held[kind]].filter((id) => !initial[kind].has(id)),
    remove: [...initial[kind]].filter((id) => !held[kind].has(id)),
    unchanged: [...initial[kind]].filter((id) => held[kind].has(id)),
  });
  const subs = diff("subscription");
  const tenants = diff("tenant");
  const plan: SharePlan = {
    add: { subscriptionIds: subs.add, tenantIds: tenants.add },
    remove: { subscriptionIds: subs.remove, tenantIds: tenants.remove },
    unchanged: { subscriptionIds: subs.unchanged, tenantIds: tenants.unchanged },
  };
  return { plan, operations: shareOperations(plan), results };
}
