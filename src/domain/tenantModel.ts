// The tenant vocabulary, declared once: the onboarding message schema, the registry's codec, the
// lifecycle rules and the HTTP queries all take their lists and types from here.

/** How a tenant is given access (see README, "Sharing modes"). */
export const SHARING_MODES = ["direct", "rbac", "principal"] as const;
export type SharingMode = (typeof SHARING_MODES)[number];

/** A consumer tenant's lifecycle states (tenantLifecycle.ts says which may follow which). */
export const TENANT_STATES = ["requested", "consent-pending", "active", "offboarding", "offboarded", "failed"] as const;
export type TenantState = (typeof TENANT_STATES)[number];

/** Who gets Reader on a gallery in principal mode. */
export const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal"] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];
