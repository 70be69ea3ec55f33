// What the registry stores and answers: the record types, the Registry interface, its options and
// its errors. The record types have no field for a token, key or connection string: nothing secret
// is stored.
import type { TokenCredential } from "@azure/identity";
import type { GrantKind } from "../domain/registryKeys";
import type { TenantRecord } from "../domain/tenantModel";
import type { FieldError } from "../domain/validation";
import type { WorkloadKind } from "../domain/workloads";

export const REQUEST_SCHEMAS = ["onboarding/v1", "offboarding/v1", "unknown"] as const;
export const REQUEST_STATES = ["accepted", "rejected", "running", "succeeded", "failed"] as const;
export const WORKLOAD_KINDS = ["vm", "vmss"] as const satisfies readonly WorkloadKind[];

export type RequestState = (typeof REQUEST_STATES)[number];

export interface RequestRecord {
  readonly requestId: string;
  readonly schema: (typeof REQUEST_SCHEMAS)[number];
  readonly tenantId?: string;
  readonly state: RequestState;
  readonly receivedAt: string;
  readonly updatedAt: string;
  readonly instanceId?: string;
  readonly reason?: string;
  /** Every failing field of a rejected request, all of them. */
  readonly fields?: readonly FieldError[];
  readonly messageId?: string;
}

/** Fields to change; a field given as `undefined` is removed. */
export type RequestPatch = Partial<Omit<RequestRecord, "requestId">>;

export interface Grant {
  readonly galleryId: string;
  readonly kind: GrantKind;
  readonly targetId: string;
  readonly tenantId: string;
  readonly requestId: string;
  readonly at: string;
  readonly roleAssignmentId?: string;
}

/** A tenant with workloads on a gallery (the index the publish wave reads). */
export interface WorkloadMember {
  readonly galleryId: string;
  readonly tenantId: string;
}

/** An image version's rollout record: a revocation (who, why, when) and a promotion. */
export interface ImageVersionRecord {
  readonly imageVersionId: string;
  readonly revoked?: { readonly reason: string; readonly by: string; readonly at: string };
  readonly promoted?: { readonly at: string; readonly by: string };
}

/** One thing an operator did through the dashboard or the CLI: who, what, on what, and how it went. */
export interface OperatorAction {
  readonly id: string;
  readonly at: string;
  /** The signed-in user's name (X-MS-CLIENT-PRINCIPAL). */
  readonly by: string;
  readonly action: string;
  /** What it acted on: a version id, `/tenants/{id}`, `reconcile`. */
  readonly target: string;
  /** The answer it got: the HTTP status and, for a refusal, why. */
  readonly status: number;
  readonly detail?: string;
}

/** A record as stored, with the ETag a conditional write must name. */
export interface Stored<T> {
  readonly record: T;
  readonly etag: string;
}

/** What an idempotent record call did: "unchanged" wrote nothing (the ETag stays). */
export type RecordOutcome = "created" | "replaced" | "unchanged";

export interface Registry {
  recordRequest(request: RequestRecord): Promise<RecordOutcome>;
  getRequest(requestId: string): Promise<Stored<RequestRecord> | undefined>;
  /** Read, patch, write with the ETag read (retried on conflict); with `etag`, one write conditional on it. */
  updateRequest(requestId: string, patch: RequestPatch, options?: { etag?: string; attempts?: number }): Promise<Stored<RequestRecord>>;

  getTenant(tenantId: string): Promise<Stored<TenantRecord> | undefined>;
  /** Every tenant, read a page at a time (never a partial list: a failed page fails the call). */
  listTenants(): Promise<Stored<TenantRecord>[]>;
  /** Without `etag`: create only. With it: replace only if the row still has that ETag. */
  putTenant(record: TenantRecord, etag?: string): Promise<Stored<TenantRecord>>;
  /** `update` may run more than once (once per attempt): it must only compute. */
  updateTenant(tenantId: string, update: (current: TenantRecord | undefined) => TenantRecord, options?: { attempts?: number }): Promise<Stored<TenantRecord>>;

  recordGrant(grant: Grant): Promise<RecordOutcome>;
  /** False when there was nothing to remove. */
  removeGrant(galleryId: string, kind: GrantKind, targetId: string): Promise<boolean>;
  listGrants(galleryId: string): Promise<Grant[]>;
  listGrantsOfTenant(tenantId: string): Promise<Grant[]>;

  /** Notes that the tenant has workloads using the gallery; written before the workload itself, so the index never misses one. */
  recordWorkloadMember(galleryId: string, tenantId: string): Promise<RecordOutcome>;
  /** Tenants that have (or had) workloads using the gallery: their rows say which workloads, if any. */
  listWorkloadMembers(galleryId: string): Promise<string[]>;

  recordOperatorAction(action: OperatorAction): Promise<RecordOutcome>;
  /** The newest `limit` actions, newest first. */
  listOperatorActions(limit: number): Promise<OperatorAction[]>;

  getImageVersion(imageVersionId: string): Promise<Stored<ImageVersionRecord> | undefined>;
  /** `update` may run more than once (once per attempt): it must only compute. */
  updateImageVersion(
    imageVersionId: string,
    update: (current: ImageVersionRecord | undefined) => ImageVersionRecord,
    options?: { attempts?: number },
  ): Promise<Stored<ImageVersionRecord>>;
  /** Every image version record of a version key (the hash /api/versions/{versionId} names). */
  findImageVersion(versionKey: string): Promise<Stored<ImageVersionRecord> | undefined>;

  /**
   * One of `creationsInFlight` places for a VM or scale-set creation, held by `holder` until `until` (ISO): true
   * when it got one (or holds one already, whose lease it renews), false when all are held. A lease
   * that ran out (a holder that crashed) is free again. ETag-checked writes: two callers never get
   * the same slot.
   */
  acquireCreationSlot(holder: string, now: string, until: string, creationsInFlight: number): Promise<boolean>;
  /** Frees the slot `holder` holds; false when it held none. */
  releaseCreationSlot(holder: string): Promise<boolean>;
}

export interface RegistryOptions {
  readonly connection: { readonly connectionString: string } | { readonly tableServiceUri: string; readonly credential: TokenCredential };
  readonly tableName: string;
  /** Rows per page a list reads (default 1000, Table storage's most); a list reads every page. */
  readonly pageSize?: number;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The row exists (create-only write) or changed since it was read (ETag mismatch). */
export class RegistryConflictError extends Error {
  /** Read by src/domain/errors.ts like an SDK error's status. */
  readonly statusCode: number;
  constructor(
    readonly subject: string,
    readonly reason: "exists" | "changed",
    detail?: string,
  ) {
    super(reason === "exists" ? `${subject} already exists` : `${subject} changed since it was read${detail ? ` (${detail})` : ""}`);
    this.name = "RegistryConflictError";
    this.statusCode = reason === "exists" ? 409 : 412;
  }
}

export class RegistryNotFoundError extends Error {
  readonly statusCode = 404;
  constructor(readonly subject: string) {
    super(`${subject} does not exist`);
    this.name = "RegistryNotFoundError";
  }
}

export interface CorruptRow {
  readonly partitionKey: string;
  readonly rowKey: string;
  /** With it, putTenant can overwrite the row once it is repaired. */
  readonly etag: string;
  readonly errors: readonly FieldError[];
}

const MAX_ROWS_IN_MESSAGE = 10;

/** Rows that do not parse; the message names each row and field, never the stored values. */
export class RegistryCorruptRowError extends Error {
  constructor(
    readonly table: string,
    readonly rows: readonly CorruptRow[],
  ) {
    const shown = rows
      .slice(0, MAX_ROWS_IN_MESSAGE)
      .map((r) => `${r.partitionKey}/${r.rowKey}: ${r.errors.map((e) => (e.path ? `${e.path} ${e.rule}` : e.rule)).join("; ")}`);
    const more = rows.length > MAX_ROWS_IN_MESSAGE ? ` | and ${rows.length - MAX_ROWS_IN_MESSAGE} more` : "";
    super(`registry table ${table}: ${rows.length} row(s) do not parse: ${shown.join(" | ")}${more}`);
    this.name = "RegistryCorruptRowError";
  }
}
