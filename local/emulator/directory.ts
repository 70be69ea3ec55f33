// Directory objects: tenants, app registrations, service principals, managed identities.
// A multi-tenant app has a service principal in its home tenant from the start and in another
// tenant only after admin consent there, as in Entra.
import type { Core } from "./core";
import { key, type App, type Principal } from "./store";

export class DirectoryError extends Error {}

export function addTenant(core: Core, tenantId: string, displayName?: string): void {
  const id = tenantId.toLowerCase();
  const existing = core.world.tenants.get(id);
  core.world.tenants.set(id, {
    id,
    displayName: displayName ?? existing?.displayName ?? `Tenant ${id.slice(0, 8)}`,
    consentDecision: existing?.consentDecision ?? "approve",
  });
}

export function addSubscription(core: Core, subscriptionId: string, tenantId: string, displayName?: string): void {
  requireTenant(core, tenantId);
  const id = subscriptionId.toLowerCase();
  core.world.subscriptions.set(id, { id, tenantId: tenantId.toLowerCase(), displayName: displayName ?? `Subscription ${id.slice(0, 8)}` });
}

export function requireTenant(core: Core, tenantId: string): void {
  if (!core.world.tenants.has(tenantId.toLowerCase())) throw new DirectoryError(`unknown tenant ${tenantId}: addTenant first`);
}

export interface NewApp {
  appId: string;
  homeTenantId: string;
  secret?: string;
  multiTenant?: boolean;
  displayName?: string;
  redirectUris?: string[];
}

export function addApp(core: Core, a: NewApp): { servicePrincipalId: string } {
  requireTenant(core, a.homeTenantId);
  const appId = a.appId.toLowerCase();
  const existing = core.world.apps.get(appId);
  const app: App = {
    appId,
    homeTenantId: a.homeTenantId.toLowerCase(),
    displayName: a.displayName ?? existing?.displayName ?? `app-${appId.slice(0, 8)}`,
    secrets: [...(existing?.secrets ?? []), ...(a.secret !== undefined ? [a.secret] : [])],
    multiTenant: a.multiTenant ?? existing?.multiTenant ?? false,
    redirectUris: a.redirectUris ?? existing?.redirectUris ?? [],
    federatedCredentials: existing?.federatedCredentials ?? [],
  };
  core.world.apps.set(appId, app);
  return { servicePrincipalId: ensureServicePrincipal(core, app, app.homeTenantId) };
}

export function ensureServicePrincipal(core: Core, app: App, tenantId: string): string {
  const tid = tenantId.toLowerCase();
  const existing = core.world.servicePrincipalId(app.appId, tid);
  if (existing) return existing;
  const objectId = core.guid("service-principal", app.appId, tid);
  const sp: Principal = { objectId, tenantId: tid, type: "ServicePrincipal", displayName: app.displayName, appId: app.appId };
  core.world.principals.set(objectId, sp);
  core.world.servicePrincipals.set(key(tid, app.appId), objectId);
  return objectId;
}

/** What an admin's consent does: the app gets a service principal in the tenant. */
export function consent(core: Core, appId: string, tenantId: string): { servicePrincipalId: string } {
  requireTenant(core, tenantId);
  const app = core.world.apps.get(appId.toLowerCase());
  if (!app) throw new DirectoryError(`unknown app ${appId}`);
  if (!app.multiTenant && app.homeTenantId !== tenantId.toLowerCase()) {
    throw new DirectoryError(`app ${appId} is single-tenant: it cannot be consented in tenant ${tenantId}`);
  }
  return { servicePrincipalId: ensureServicePrincipal(core, app, tenantId) };
}

/** Graph refuses a 21st federated identity credential on one app. */
export const MAX_FEDERATED_CREDENTIALS = 20;

export interface NewFederatedCredential {
  name?: string;
  issuer: string;
  subject: string;
  audiences?: string[];
  /** Entra takes a while to see a new credential (AADSTS70021 until then); emulator-clock ms, default 0. */
  propagationDelayMs?: number;
}

export function addFederatedCredential(core: Core, appId: string, fc: NewFederatedCredential): void {
  const app = core.world.apps.get(appId.toLowerCase());
  if (!app) throw new DirectoryError(`unknown app ${appId}`);
  if (app.federatedCredentials.length >= MAX_FEDERATED_CREDENTIALS) {
    throw new DirectoryError(`app ${appId} already has ${MAX_FEDERATED_CREDENTIALS} federated identity credentials, the most an application can have`);
  }
  // Graph's rule: the combination of issuer and subject must be unique on the app.
  if (app.federatedCredentials.some((f) => f.issuer === fc.issuer && f.subject === fc.subject)) {
    throw new DirectoryError(`app ${appId} already has a federated identity credential for issuer '${fc.issuer}' and subject '${fc.subject}'`);
  }
  const name = fc.name ?? `fic-${app.federatedCredentials.length + 1}`;
  if (app.federatedCredentials.some((f) => f.name === name))
    throw new DirectoryError(`app ${appId} already has a federated identity credential named '${name}'`);
  app.federatedCredentials.push({
    name,
    issuer: fc.issuer,
    subject: fc.subject,
    audiences: fc.audiences ?? ["api://AzureADTokenExchange"],
    activeFrom: core.clock.now() + Math.max(0, fc.propagationDelayMs ?? 0),
  });
}

export interface NewManagedIdentity {
  tenantId: string;
  clientId?: string;
  objectId?: string;
  displayName?: string;
}

/** A user-assigned managed identity: a service principal whose tokens come from the identity endpoint. */
export function addManagedIdentity(core: Core, mi: NewManagedIdentity): { clientId: string; objectId: string } {
  requireTenant(core, mi.tenantId);
  const tid = mi.tenantId.toLowerCase();
  const name = mi.displayName ?? `identity-${core.world.principals.size + 1}`;
  const clientId = (mi.clientId ?? core.guid("managed-identity-client", tid, name)).toLowerCase();
  const objectId = (mi.objectId ?? core.guid("managed-identity-object", tid, clientId)).toLowerCase();
  core.world.principals.set(objectId, { objectId, tenantId: tid, type: "ServicePrincipal", displayName: name, appId: clientId, managedIdentity: true });
  core.world.servicePrincipals.set(key(tid, clientId), objectId);
  return { clientId, objectId };
}

export function addUser(core: Core, u: { tenantId: string; objectId?: string; displayName?: string }): { objectId: string } {
  requireTenant(core, u.tenantId);
  const name = u.displayName ?? `user-${core.world.principals.size + 1}`;
  const objectId = (u.objectId ?? core.guid("user", u.tenantId.toLowerCase(), name)).toLowerCase();
  core.world.principals.set(objectId, { objectId, tenantId: u.tenantId.toLowerCase(), type: "User", displayName: name });
  return { objectId };
}
