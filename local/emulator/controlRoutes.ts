// HTTP face of the control plane, under /_emulator (a path ARM never uses). No authentication:
// the server listens on loopback only. Bodies and answers are JSON; misuse answers 400 {error}.
import type { VirtualClock } from "../clock";
import type { Ctx } from "./context";
import type { EmulatorControl } from "./control";
import type { FaultSpec } from "./faults";
import { isObject, queryParam, str, type EmuRequest, type EmuResponse, type JsonObject } from "./http";
import type { Route } from "./router";

export interface ControlInfo {
  url: string;
  authorityHost: string;
  caFile: string;
  identityEndpoint: string;
  identityHeader: string;
}

type Handler = (body: JsonObject, req: EmuRequest) => unknown;

function field(b: JsonObject, name: string): string {
  const v = str(b[name]);
  if (v === undefined) throw new Error(`'${name}' (string) is required`);
  return v;
}

function faultFromJson(b: JsonObject): FaultSpec {
  const pathRegex = str(b.pathRegex);
  const path = pathRegex !== undefined ? new RegExp(pathRegex, "i") : field(b, "path");
  const spec: FaultSpec = { path };
  for (const k of ["method", "code", "message"] as const) if (typeof b[k] === "string") spec[k] = b[k];
  for (const k of ["status", "count", "probability", "retryAfterSeconds", "delayMs"] as const) if (typeof b[k] === "number") spec[k] = b[k];
  if (typeof b.drop === "boolean") spec.drop = b.drop;
  if (b.lro === "fail" || b.lro === "cancel") spec.lro = b.lro;
  return spec;
}

function clockState(control: EmulatorControl, virtual: boolean): JsonObject {
  const now = control.now();
  return { now, iso: new Date(now).toISOString(), virtual };
}

export function controlRoutes(control: EmulatorControl, info: () => ControlInfo, virtualClock: VirtualClock | undefined): Route<Ctx>[] {
  const route = (method: string, path: string, handler: Handler): Route<Ctx> => ({
    method,
    pattern: `/_emulator${path}`,
    kind: "control",
    handler: (req) => {
      const body = isObject(req.body) ? req.body : {};
      try {
        const result = handler(body, req);
        return { status: 200, body: result ?? { ok: true } };
      } catch (e) {
        return { status: 400, body: { error: e instanceof Error ? e.message : String(e) } };
      }
    },
  });
  const spread = <T>(b: JsonObject): T => b as unknown as T;
  return [
    route("GET", "", () => ({ ...info(), clock: clockState(control, virtualClock !== undefined), docs: "local/emulator/README.md" })),
    route("POST", "/tenants", (b) => control.addTenant(field(b, "tenantId"), str(b.displayName))),
    route("POST", "/subscriptions", (b) => control.addSubscription(field(b, "subscriptionId"), field(b, "tenantId"), str(b.displayName))),
    route("POST", "/resourceGroups", (b) => control.addResourceGroup(field(b, "subscriptionId"), field(b, "resourceGroup"), field(b, "location"))),
    route("POST", "/apps", (b) => control.addApp(spread(b))),
    route("POST", "/apps/{appId}/federatedCredentials", (b, req) => control.addFederatedCredential(req.params.appId ?? "", spread(b))),
    route("POST", "/managedIdentities", (b) => control.addManagedIdentity(spread(b))),
    route("POST", "/users", (b) => control.addUser(spread(b))),
    route("POST", "/consent", (b) => control.consent(field(b, "appId"), field(b, "tenantId"))),
    route("PUT", "/tenants/{tenantId}/consentDecision", (b, req) => {
      const decision = field(b, "decision");
      if (decision !== "approve" && decision !== "decline") throw new Error("decision must be 'approve' or 'decline'");
      control.setConsentDecision(req.params.tenantId ?? "", decision);
    }),
    route("GET", "/servicePrincipals", (_b, req) => ({
      servicePrincipalId: control.servicePrincipalId(queryParam(req, "appId") ?? "", queryParam(req, "tenantId") ?? "") ?? null,
    })),
    route("POST", "/roleAssignments", (b) => ({
      name: control.addRoleAssignment({ scope: field(b, "scope"), principalId: field(b, "principalId"), role: field(b, "role") }),
    })),
    route("POST", "/galleries", (b) => control.createGallery(spread(b))),
    route("POST", "/images", (b) => control.createImageDefinition(spread(b))),
    route("POST", "/versions", (b) => ({ id: control.publishVersion(spread(b)) })),
    route("POST", "/share", (b) => control.shareGallery(spread(b))),
    route("POST", "/replicationScripts", (b) => control.scriptReplication(spread(b))),
    route("POST", "/virtualNetworks", (b) => ({ id: control.createVirtualNetwork(spread(b)) })),
    route("POST", "/tokens", (b) => ({ access_token: control.issueToken(spread(b)), token_type: "Bearer" })),
    route("GET", "/clock", () => clockState(control, virtualClock !== undefined)),
    route("POST", "/clock/advance", (b) => {
      if (!virtualClock) throw new Error("the emulator's clock is not a VirtualClock");
      const ms =
        (typeof b.ms === "number" ? b.ms : 0) +
        (typeof b.seconds === "number" ? b.seconds * 1000 : 0) +
        (typeof b.minutes === "number" ? b.minutes * 60_000 : 0);
      virtualClock.advance(ms);
      return clockState(control, true);
    }),
    route("POST", "/clock/set", (b) => {
      if (!virtualClock) throw new Error("the emulator's clock is not a VirtualClock");
      const t = typeof b.time === "number" ? b.time : Date.parse(field(b, "time"));
      virtualClock.setTime(t);
      return clockState(control, true);
    }),
    route("POST", "/faults", (b) => ({ id: control.fault(faultFromJson(b)) })),
    route("DELETE", "/faults", () => control.clearFaults()),
    route("DELETE", "/faults/{id}", (_b, req) => ({ removed: control.removeFault(req.params.id ?? "") })),
    route("GET", "/log", () => control.requestLog()),
    route("DELETE", "/log", () => control.clearRequestLog()),
    route("GET", "/creations", () => control.creations()),
    route("DELETE", "/creations", () => control.resetCreations()),
    route("GET", "/events", (_b, req) => control.receivedEvents(queryParam(req, "topic"))),
    route("GET", "/resourceNotifications", () => control.resourceNotifications()),
    route("POST", "/reset", () => control.reset()),
  ];
}

export function controlNotFound(): EmuResponse {
  return { status: 404, body: { error: "unknown control route; see local/emulator/README.md" } };
}
