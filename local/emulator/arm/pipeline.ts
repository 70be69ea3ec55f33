// What ARM's front door does before a resource provider sees a request: authenticate the bearer
// token, check the subscription exists and belongs to the token's tenant, check the api-version,
// and take a token from the caller's throttling bucket.
import { auxiliaryCallers, authenticate } from "../authz";
import type { Ctx } from "../context";
import { issuerFor } from "../entra/tokens";
import { queryParam, type EmuRequest, type EmuResponse } from "../http";
import type { Route } from "../router";
import { checkApiVersion } from "./apiVersions";
import { ArmError, errors } from "./errors";
import { allRegionNames, findRegion } from "./regions";
import { resourceGroupOfScope, subscriptionOfScope } from "./roleAssignments";

export async function runArm(route: Route<Ctx>, req: EmuRequest, ctx: Ctx): Promise<EmuResponse> {
  const core = ctx.core;
  const caller = authenticate(core, req);
  // Every auxiliary token must be valid and unexpired, whatever the request needs them for.
  const auxiliary = auxiliaryCallers(core, req);
  const subscriptionId = (req.params.subscriptionId ?? (req.params.scope !== undefined ? subscriptionOfScope(req.params.scope) : undefined))?.toLowerCase();
  if (subscriptionId !== undefined) {
    const sub = core.world.subscriptions.get(subscriptionId);
    if (!sub) throw errors.subscriptionNotFound(subscriptionId);
    if (sub.tenantId !== caller.tenantId.toLowerCase()) {
      throw errors.wrongTenant(caller.issuer, issuerFor(core, sub.tenantId), `${core.baseUrl}/${sub.tenantId}`);
    }
  }
  const rgName = req.params.resourceGroupName ?? (req.params.scope !== undefined ? resourceGroupOfScope(req.params.scope) : undefined);
  const rgLocation = subscriptionId && rgName ? core.world.resourceGroup(subscriptionId, rgName)?.location : undefined;
  const location = (req.params.location ? findRegion(req.params.location)?.name : undefined) ?? rgLocation ?? "global";
  ctx.apiVersion = checkApiVersion(queryParam(req, "api-version"), route.family ?? "", location, allRegionNames());
  const kind = req.method === "GET" || req.method === "HEAD" ? "reads" : "writes";
  const headerName = `x-ms-ratelimit-remaining-subscription-${req.method === "DELETE" ? "deletes" : kind}`;
  let remaining: number | undefined;
  if (core.buckets) {
    const taken = core.buckets.take(`${subscriptionId ?? caller.tenantId}|${caller.objectId}`, kind);
    if (!taken.ok) {
      throw new ArmError(
        429,
        "SubscriptionRequestsThrottled",
        `Number of '${kind === "reads" ? "read" : "write"}' requests for subscription '${subscriptionId ?? ""}' actor '${caller.objectId}' exceeded. Please try again after '${taken.retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
        { headers: { "retry-after": String(taken.retryAfterSeconds), [headerName]: "0" } },
      );
    }
    remaining = taken.remaining;
  }
  ctx.caller = caller;
  ctx.auxiliary = auxiliary;
  const rateHeader: Record<string, string> = remaining === undefined ? {} : { [headerName]: String(remaining) };
  try {
    const res = await route.handler(req, ctx);
    res.headers = { ...res.headers, ...rateHeader };
    return res;
  } catch (e) {
    // ARM reports the remaining budget on refusals too.
    if (e instanceof ArmError) throw new ArmError(e.status, e.code, e.message, { ...e.extra, headers: { ...e.extra.headers, ...rateHeader } });
    throw e;
  }
}
