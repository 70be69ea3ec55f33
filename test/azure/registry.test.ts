// The registry against real Azurite with the real @azure/data-tables: round trips of each kind of
// row, idempotent records, ETag conflicts (no lost update), rows that do not parse, refused keys
// and values, the history cap. Each test has a table of its own.
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../../local/azurite";
import { RegistryCorruptRowError, createRegistry, type Grant, type Registry, type RequestRecord, type TenantRecord } from "../../src/azure/registry";
import { RegistryConflictError, RegistryNotFoundError } from "../../src/azure/registryRecords";
import { MAX_TENANT_HISTORY } from "../../src/domain/tenantModel";
import { versionKeyOf } from "../../src/domain/instanceIds";
import { grantPartition } from "../../src/domain/registryKeys";
import { DomainValidationError } from "../../src/domain/validation";
import { startFaultyProxy, type FaultyProxy, type ProxyFault } from "../support/faultyProxy";

const SUB = "11111111-2222-3333-4444-555555555555";
const GALLERY = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden_images`;
const GALLERY_2 = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/silver_images`;
const GALLERY_3 = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/bronze_images`;
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TENANT_2 = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const CONSUMER_SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const REQUEST_ID = "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f";
const REQUEST_ID_2 = "9a0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";

function request(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: REQUEST_ID,
    schema: "onboarding/v1",
    tenantId: TENANT,
    state: "accepted",
    receivedAt: "2026-01-01T09:00:00.000Z",
    updatedAt: "2026-01-01T09:00:00.000Z",
    messageId: REQUEST_ID,
    ...overrides,
  };
}

function tenant(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    tenantId: TENANT,
    displayName: "Contoso",
    mode: "direct",
    galleries: [GALLERY],
    subscriptionIds: [CONSUMER_SUB],
    state: "requested",
    since: "2026-01-01T09:00:00.000Z",
    lastRequestId: REQUEST_ID,
    history: [{ state: "requested", at: "2026-01-01T09:00:00.000Z", requestId: REQUEST_ID }],
    ...overrides,
  };
}

function grant(overrides: Partial<Grant> = {}): Grant {
  return {
    galleryId: GALLERY,
    kind: "subscription",
    targetId: CONSUMER_SUB,
    tenantId: TENANT,
    requestId: REQUEST_ID,
    at: "2026-01-01T09:05:00.000Z",
    ...overrides,
  };
}

/** A tenant row as the registry lays it out: scalars as they are, arrays and objects as JSON. */
function tenantRow(t: TenantRecord): { partitionKey: string; rowKey: string } & Record<string, string> {
  const row: { partitionKey: string; rowKey: string } & Record<string, string> = { partitionKey: "tenant", rowKey: t.tenantId };
  for (const [name, value] of Object.entries(t) as [string, unknown][]) row[name] = typeof value === "string" ? value : JSON.stringify(value);
  return row;
}

/** The rejection a promise ends with, to inspect its fields. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

describe("registry (Azurite)", () => {
  let azurite: Azurite;
  const proxies: FaultyProxy[] = [];
  let tables = 0;
  /** A registry on a fresh table, and a raw client on the same table. */
  const fresh = (pageSize?: number): { registry: Registry; raw: TableClient } => {
    const tableName = `registry${++tables}`;
    return {
      registry: createRegistry({
        connection: { connectionString: azurite.connectionString },
        tableName,
        ...(pageSize === undefined ? {} : { pageSize }),
      }),
      raw: TableClient.fromConnectionString(azurite.connectionString, tableName, { allowInsecureConnection: true }),
    };
  };
  /** A registry that reaches Azurite through a proxy answering the given requests with errors. */
  const behindProxy = async (tableName: string, faults: ProxyFault[]): Promise<{ registry: Registry; proxy: FaultyProxy }> => {
    const origin = new URL(azurite.tableEndpoint).origin;
    const proxy = await startFaultyProxy(origin, faults);
    proxies.push(proxy);
    return { registry: createRegistry({ connection: { connectionString: azurite.connectionString.replace(origin, proxy.url) }, tableName }), proxy };
  };

  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await azurite?.stop();
  });

  describe("requests", () => {
    it("round-trips a request with every field, keyed by the lower-cased request id", async () => {
      const { registry, raw } = fresh();
      const full = request({ state: "running", instanceId: "onboard-0123456789abcdef", reason: "started" });
      expect(await registry.recordRequest({ ...full, requestId: REQUEST_ID.toUpperCase(), tenantId: TENANT.toUpperCase() })).toBe("created");
      const stored = await registry.getRequest(REQUEST_ID.toUpperCase());
      expect(stored?.record).toEqual(full);
      expect(stored?.etag).toMatch(/.+/);
      const row = await raw.getEntity("request", REQUEST_ID);
      expect(row.tenantId).toBe(TENANT);
      expect(await registry.getRequest(REQUEST_ID_2)).toBeUndefined();
    });

    it("writes nothing when the same request is recorded again; a new state overwrites", async () => {
      const { registry } = fresh();
      expect(await registry.recordRequest(request())).toBe("created");
      const first = await registry.getRequest(REQUEST_ID);
      expect(await registry.recordRequest(request())).toBe("unchanged");
      // Not even the ETag moved: a holder of it can still write.
      expect((await registry.getRequest(REQUEST_ID))?.etag).toBe(first?.etag);

      expect(await registry.recordRequest(request({ state: "running", updatedAt: "2026-01-01T09:01:00.000Z" }))).toBe("replaced");
      expect((await registry.getRequest(REQUEST_ID))?.record.state).toBe("running");
    });

    it("keeps every failing field of a rejected request", async () => {
      const { registry } = fresh();
      const fields = [
        { path: "tenantId", rule: "must be a GUID" },
        { path: "galleries[0]", rule: "must be a gallery resource id" },
        { path: "", rule: "must be a JSON object" },
        ...Array.from({ length: 200 }, (_, i) => ({ path: `subscriptionIds[${i}]`, rule: "must be a GUID" })),
      ];
      await registry.recordRequest(request({ schema: "unknown", tenantId: undefined, state: "rejected", reason: "invalid onboarding message", fields }));
      const stored = await registry.getRequest(REQUEST_ID);
      expect(stored?.record.fields).toEqual(fields);
      expect(stored?.record.tenantId).toBeUndefined();
    });

    it("patches a request under its ETag, and refuses a stale ETag or a missing request", async () => {
      const { registry } = fresh();
      await registry.recordRequest(request({ reason: "queued" }));
      const before = await registry.getRequest(REQUEST_ID);
      const after = await registry.updateRequest(REQUEST_ID, { state: "succeeded", updatedAt: "2026-01-01T10:00:00.000Z", reason: undefined });
      expect(after.record).toEqual(request({ state: "succeeded", updatedAt: "2026-01-01T10:00:00.000Z" }));
      expect((await registry.getRequest(REQUEST_ID))?.record).toEqual(after.record);

      const stale = await rejection(registry.updateRequest(REQUEST_ID, { state: "failed" }, { etag: before?.etag ?? "" }));
      expect(stale).toBeInstanceOf(RegistryConflictError);
      expect(stale).toMatchObject({ reason: "changed", statusCode: 412 });
      expect((await registry.getRequest(REQUEST_ID))?.record.state).toBe("succeeded");

      await expect(registry.updateRequest(REQUEST_ID_2, { state: "failed" })).rejects.toBeInstanceOf(RegistryNotFoundError);
    });
  });

  describe("tenants", () => {
    it("round-trips a tenant with every field; arrays and objects are JSON strings in the row", async () => {
      const { registry, raw } = fresh();
      const full = tenant({
        mode: "principal",
        galleries: [GALLERY, GALLERY_2],
        consumer: { subscriptionId: CONSUMER_SUB, resourceGroup: "contoso-vms", location: "eastus" },
        principal: { objectId: TENANT_2, type: "Group" },
        state: "consent-pending",
        reason: "waiting for admin consent",
        consent: {
          url: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/adminconsent?client_id=x",
          expiresAt: "2026-01-08T09:00:00.000Z",
        },
        ring: 0,
        ringSet: { by: "ops@contoso", at: "2026-01-07T09:00:00.000Z" },
      });
      const put = await registry.putTenant(full);
      expect(put.record).toEqual(full);
      const got = await registry.getTenant(TENANT.toUpperCase());
      expect(got).toEqual(put);

      const row = await raw.getEntity<Record<string, unknown>>("tenant", TENANT);
      expect(row.galleries).toBe(JSON.stringify([GALLERY, GALLERY_2]));
      expect(typeof row.principal).toBe("string");
      expect(await registry.getTenant(TENANT_2)).toBeUndefined();

      await registry.putTenant(tenant({ tenantId: TENANT_2, displayName: "Fabrikam" }));
      expect((await registry.listTenants()).map((t) => t.record.displayName).sort()).toEqual(["Contoso", "Fabrikam"]);
    });

    it("keeps an image version's revocation and promotion, keyed by the version key /api/versions uses", async () => {
      const { registry } = fresh();
      const version = `${GALLERY}/images/ubuntu/versions/1.1.0`;
      expect(await registry.getImageVersion(version)).toBeUndefined();
      const revoked = { reason: "kernel panic", by: "ops@contoso", at: "2026-01-07T09:00:00.000Z" };
      await registry.updateImageVersion(version, (current) => ({ ...(current ?? { imageVersionId: version }), revoked }));
      const got = await registry.getImageVersion(version.toUpperCase());
      expect(got?.record).toEqual({ imageVersionId: version, revoked });
      expect((await registry.findImageVersion(versionKeyOf(version)))?.record).toEqual({ imageVersionId: version, revoked });
      expect(await registry.findImageVersion("not-a-key")).toBeUndefined();
    });

    it("round-trips the VMs and scale sets of a tenant, and names each bad field of one", async () => {
      const { registry, raw } = fresh();
      const spec = {
        kind: "vmss" as const,
        image: "ubuntu",
        version: "latest",
        size: "Standard_D2s_v5",
        subnetId: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
        adminUsername: "azureuser",
        sshPublicKey: "ssh-ed25519 AAAA op@host",
        updateOnPublish: true,
        orchestrationMode: "Flexible" as const,
        instanceCount: 3,
        upgradePolicy: "Manual" as const,
      };
      const workload = {
        kind: "vmss" as const,
        resourceId: `/subscriptions/${CONSUMER_SUB}/resourceGroups/contoso-vms/providers/Microsoft.Compute/virtualMachineScaleSets/gss-1`,
        galleryId: GALLERY,
        imageVersion: `${GALLERY}/images/ubuntu/versions/1.2.0`,
        provisioningState: "Failed",
        error: { code: "OSProvisioningTimedOut", message: "did not finish" },
        changedBy: "publish-abc",
        at: "2026-01-08T09:00:00.000Z",
        spec,
      };
      const put = await registry.putTenant(tenant({ workloads: [workload] }));
      expect((await registry.getTenant(TENANT))?.record.workloads).toEqual([workload]);
      expect(put.record.workloads).toEqual([workload]);
      expect(typeof (await raw.getEntity<Record<string, unknown>>("tenant", TENANT)).workloads).toBe("string");

      const bad = tenant({
        workloads: [{ ...workload, kind: "vmx", spec: { ...spec, updateOnPublish: "yes", instanceCount: -1 } }],
      } as unknown as Partial<TenantRecord>);
      const err = await rejection(registry.putTenant(bad));
      expect((err as DomainValidationError).errors.map((e) => e.path)).toEqual([
        "workloads[0].kind",
        "workloads[0].spec.updateOnPublish",
        "workloads[0].spec.instanceCount",
      ]);
    });

    it("create-only put fails when the row exists; a put with a stale ETag fails", async () => {
      const { registry } = fresh();
      const first = await registry.putTenant(tenant());
      const exists = await rejection(registry.putTenant(tenant({ displayName: "Someone else" })));
      expect(exists).toBeInstanceOf(RegistryConflictError);
      expect(exists).toMatchObject({ reason: "exists", statusCode: 409 });
      expect((exists as Error).message).toBe(`tenant ${TENANT} already exists`);

      const second = await registry.putTenant(tenant({ state: "active" }), first.etag);
      expect(second.etag).not.toBe(first.etag);
      const stale = await rejection(registry.putTenant(tenant({ state: "failed" }), first.etag));
      expect(stale).toBeInstanceOf(RegistryConflictError);
      expect(stale).toMatchObject({ reason: "changed" });
      expect((await registry.getTenant(TENANT))?.record.state).toBe("active");
    });

    it("two concurrent updates that each add a gallery both land (no lost update)", async () => {
      const { registry } = fresh();
      await registry.putTenant(tenant());
      let calls = 0;
      const addGallery =
        (galleryId: string) =>
        (current: TenantRecord | undefined): TenantRecord => {
          calls += 1;
          if (!current) throw new Error("the tenant exists");
          return { ...current, galleries: [...current.galleries, galleryId] };
        };
      const [a, b] = await Promise.all([registry.updateTenant(TENANT, addGallery(GALLERY_2)), registry.updateTenant(TENANT, addGallery(GALLERY_3))]);
      const stored = await registry.getTenant(TENANT);
      expect([...(stored?.record.galleries ?? [])].sort()).toEqual([GALLERY, GALLERY_2, GALLERY_3].sort());
      // Whether both read the same ETag depends on timing; when they did, the refused one was re-read
      // and re-applied (the proxy test below forces that case). Either way no update is lost.
      expect(calls).toBeGreaterThanOrEqual(2);
      expect([a.etag, b.etag]).toContain(stored?.etag);
    });

    it("creates a missing tenant through updateTenant, and writes nothing when the update changes nothing", async () => {
      const { registry } = fresh();
      const created = await registry.updateTenant(TENANT, (current) => current ?? tenant());
      expect(created.record).toEqual(tenant());
      const again = await registry.updateTenant(TENANT, (current) => current ?? tenant());
      expect(again.etag).toBe(created.etag);
      const moved = await rejection(registry.updateTenant(TENANT, (current) => ({ ...(current ?? tenant()), tenantId: TENANT_2 })));
      expect(moved).toBeInstanceOf(DomainValidationError);
    });

    it("re-reads and retries after a refused write, and gives up after the given attempts", async () => {
      // The proxy refuses the conditional writes (PUT) as Table storage does when the ETag moved.
      const conflict = (count: number): ProxyFault[] => [{ method: "PUT", path: /\/registryconflict\d\(/, status: 412, count }];
      const once = await behindProxy("registryconflict1", conflict(1));
      await once.registry.putTenant(tenant());
      let calls = 0;
      const stored = await once.registry.updateTenant(TENANT, (current) => {
        calls += 1;
        return { ...(current ?? tenant()), state: "active" };
      });
      expect(calls).toBe(2);
      expect(stored.record.state).toBe("active");

      const always = await behindProxy("registryconflict2", conflict(3));
      await always.registry.putTenant(tenant());
      calls = 0;
      const err = await rejection(
        always.registry.updateTenant(TENANT, (current) => ({ ...(current ?? tenant()), reason: `attempt ${++calls}` }), { attempts: 3 }),
      );
      expect(err).toBeInstanceOf(RegistryConflictError);
      expect((err as Error).message).toBe(`tenant ${TENANT} changed since it was read (still changing after 3 attempts)`);
      expect(calls).toBe(3);
      expect(always.proxy.failed).toBe(3);
    });

    it("keeps the newest 50 history entries", async () => {
      const { registry } = fresh();
      const at = (i: number): string => new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
      const history = Array.from({ length: 60 }, (_, i) => ({ state: "active" as const, at: at(i), requestId: REQUEST_ID, reason: `entry ${i}` }));
      // Given newest first: the cap keeps the newest by time, not by position.
      const put = await registry.putTenant(tenant({ history: [...history].reverse() }));
      expect(put.record.history).toHaveLength(MAX_TENANT_HISTORY);
      expect(put.record.history[0]?.reason).toBe("entry 10");
      expect(put.record.history.at(-1)?.reason).toBe("entry 59");

      const updated = await registry.updateTenant(TENANT, (current) => ({
        ...(current ?? tenant()),
        history: [...(current?.history ?? []), { state: "offboarding", at: at(61), requestId: REQUEST_ID_2 }],
      }));
      expect(updated.record.history).toHaveLength(MAX_TENANT_HISTORY);
      expect(updated.record.history[0]?.reason).toBe("entry 11");
      expect((await registry.getTenant(TENANT))?.record.history.at(-1)).toEqual({ state: "offboarding", at: at(61), requestId: REQUEST_ID_2 });
    });

    it("reports a row that does not parse, naming the row and the field, in get and in list", async () => {
      const { registry, raw } = fresh();
      await registry.putTenant(tenant({ tenantId: TENANT_2 }));
      await raw.createEntity({ ...tenantRow(tenant()), galleries: "[not json", history: '[{"state":"active"}]' });

      const got = await rejection(registry.getTenant(TENANT));
      expect(got).toBeInstanceOf(RegistryCorruptRowError);
      const rows = (got as RegistryCorruptRowError).rows;
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ partitionKey: "tenant", rowKey: TENANT });
      expect(rows[0]?.errors).toEqual([
        { path: "galleries", rule: "is not valid JSON" },
        { path: "history[0].at", rule: "must be an ISO 8601 time like 2026-01-01T09:00:00.000Z" },
        { path: "history[0].requestId", rule: "must be a GUID" },
      ]);
      expect((got as Error).message).toContain(`tenant/${TENANT}: galleries is not valid JSON`);

      const listed = await rejection(registry.listTenants());
      expect(listed).toBeInstanceOf(RegistryCorruptRowError);
      expect((listed as RegistryCorruptRowError).rows.map((r) => r.rowKey)).toEqual([TENANT]);
      // Nor can an update build on it.
      await expect(registry.updateTenant(TENANT, (current) => current ?? tenant())).rejects.toBeInstanceOf(RegistryCorruptRowError);

      // Once repaired with the corrupt row's ETag, it reads again.
      await registry.putTenant(tenant(), rows[0]?.etag);
      expect((await registry.getTenant(TENANT))?.record).toEqual(tenant());
    });

    it("reports a row stored under another tenant's key", async () => {
      const { registry, raw } = fresh();
      await raw.createTable();
      await raw.createEntity({ ...tenantRow(tenant({ tenantId: TENANT_2 })), rowKey: TENANT });
      const err = await rejection(registry.getTenant(TENANT));
      expect((err as RegistryCorruptRowError).rows[0]?.errors).toEqual([
        { path: "RowKey", rule: `does not match the record (expected ${JSON.stringify(TENANT_2)})` },
      ]);
    });

    it("lists every tenant a page at a time, however many pages", async () => {
      const { registry } = fresh(2);
      const ids = [TENANT, TENANT_2, CONSUMER_SUB, "5a5a5a5a-0000-4000-8000-000000000005", "5a5a5a5a-0000-4000-8000-000000000006"];
      for (const id of ids) await registry.putTenant(tenant({ tenantId: id }));
      expect((await registry.listTenants()).map((s) => s.record.tenantId).sort()).toEqual([...ids].sort());
    });

    it("indexes the tenants with workloads on a gallery, once each", async () => {
      const { registry } = fresh();
      expect(await registry.recordWorkloadMember(GALLERY, TENANT.toUpperCase())).toBe("created");
      expect(await registry.recordWorkloadMember(GALLERY, TENANT)).toBe("unchanged");
      await registry.recordWorkloadMember(GALLERY, TENANT_2);
      await registry.recordWorkloadMember(`${GALLERY}x`, CONSUMER_SUB);
      expect((await registry.listWorkloadMembers(GALLERY.toUpperCase())).sort()).toEqual([TENANT, TENANT_2].sort());
    });
  });

  describe("grants", () => {
    it("round-trips, records idempotently, removes, and lists by gallery and by tenant", async () => {
      const { registry, raw } = fresh();
      const role = grant({
        kind: "roleAssignment",
        targetId: TENANT_2,
        roleAssignmentId: `${GALLERY}/providers/Microsoft.Authorization/roleAssignments/${REQUEST_ID_2}`,
      });
      expect(await registry.recordGrant(grant())).toBe("created");
      expect(await registry.recordGrant(grant())).toBe("unchanged");
      expect(await registry.recordGrant(grant({ requestId: REQUEST_ID_2 }))).toBe("replaced");
      await registry.recordGrant(role);
      await registry.recordGrant(grant({ galleryId: GALLERY_2, kind: "tenant", targetId: TENANT }));
      await registry.recordGrant(grant({ galleryId: GALLERY_2, kind: "tenant", targetId: TENANT_2, tenantId: TENANT_2 }));

      const row = await raw.getEntity(grantPartition(GALLERY), `subscription|${CONSUMER_SUB}`);
      expect(row.galleryId).toBe(GALLERY);
      // Any casing of the gallery id finds the same partition.
      expect(await registry.listGrants(GALLERY.toUpperCase())).toEqual(expect.arrayContaining([grant({ requestId: REQUEST_ID_2 }), role]));
      expect(await registry.listGrants(GALLERY)).toHaveLength(2);

      const ofTenant = await registry.listGrantsOfTenant(TENANT.toUpperCase());
      expect(ofTenant.map((g) => `${g.galleryId}|${g.kind}`).sort()).toEqual(
        [`${GALLERY_2}|tenant`, `${GALLERY}|roleAssignment`, `${GALLERY}|subscription`].sort(),
      );
      expect((await registry.listGrantsOfTenant(TENANT_2)).map((g) => g.targetId)).toEqual([TENANT_2]);

      expect(await registry.removeGrant(GALLERY, "roleAssignment", TENANT_2.toUpperCase())).toBe(true);
      expect(await registry.removeGrant(GALLERY, "roleAssignment", TENANT_2)).toBe(false);
      expect(await registry.listGrants(GALLERY)).toEqual([grant({ requestId: REQUEST_ID_2 })]);
      expect(await registry.listGrants(GALLERY_3)).toEqual([]);
    });

    it("reports a grant row that does not parse instead of leaving it out of the list", async () => {
      const { registry, raw } = fresh();
      await registry.recordGrant(grant());
      await raw.upsertEntity({
        partitionKey: grantPartition(GALLERY),
        rowKey: `tenant|${TENANT}`,
        galleryId: GALLERY,
        kind: "tenant",
        targetId: TENANT,
        tenantId: TENANT,
        requestId: REQUEST_ID,
        at: "yesterday",
      });
      const err = await rejection(registry.listGrantsOfTenant(TENANT));
      expect(err).toBeInstanceOf(RegistryCorruptRowError);
      expect((err as RegistryCorruptRowError).rows).toMatchObject([{ rowKey: `tenant|${TENANT}`, errors: [{ path: "at" }] }]);
    });
  });

  describe("refusals", () => {
    it("refuses bad keys with an error naming the field, before any request", async () => {
      const { registry } = fresh();
      const cases: [Promise<unknown>, string][] = [
        [registry.getTenant("a/b"), "tenantId"],
        [registry.getRequest("x#y"), "requestId"],
        [registry.updateTenant("..\\x", () => tenant()), "tenantId"],
        [registry.removeGrant(GALLERY, "subscription", "a?b"), "targetId"],
        [registry.removeGrant(GALLERY, "owner" as "tenant", CONSUMER_SUB), "kind"],
        [registry.listGrants("/subscriptions/x/galleries/y"), "galleryId"],
        [registry.listGrantsOfTenant("t'); drop"), "tenantId"],
        [registry.recordGrant(grant({ targetId: "tenant\n" })), "targetId"],
        [registry.putTenant(tenant({ tenantId: "contoso" })), "tenantId"],
        [registry.recordRequest(request({ requestId: "r/1" })), "requestId"],
      ];
      for (const [call, field] of cases) {
        const err = await rejection(call);
        expect(err, field).toBeInstanceOf(DomainValidationError);
        expect(
          (err as DomainValidationError).errors.map((e) => e.path),
          field,
        ).toContain(field);
      }
    });

    it("refuses invalid records, naming every field", async () => {
      const { registry } = fresh();
      const bad = {
        ...tenant(),
        mode: "shared",
        galleries: ["golden"],
        consumer: { subscriptionId: CONSUMER_SUB, resourceGroup: "rg", location: "" },
      } as unknown as TenantRecord;
      const err = await rejection(registry.putTenant(bad));
      expect((err as DomainValidationError).errors.map((e) => e.path)).toEqual(["mode", "galleries[0]", "consumer.location"]);
      const url = await rejection(
        registry.putTenant(tenant({ consent: { url: "https://user:pw@example.com/consent", expiresAt: "2026-01-08T09:00:00.000Z" } })),
      );
      expect((url as DomainValidationError).errors).toEqual([{ path: "consent.url", rule: "must be an https URL without user name or password" }]);
    });

    it("refuses a field it would not store, naming it, instead of dropping it on write", async () => {
      const { registry } = fresh();
      const extra = { ...tenant(), tier: "canary" } as unknown as TenantRecord;
      const err = await rejection(registry.putTenant(extra));
      expect(err).toBeInstanceOf(DomainValidationError);
      expect((err as DomainValidationError).errors).toEqual([{ path: "tier", rule: "is not a field the registry stores" }]);
    });

    it("refuses a value larger than Table storage takes, naming the property", async () => {
      const { registry } = fresh();
      const err = await rejection(registry.putTenant(tenant({ displayName: "x".repeat(40_000) })));
      expect(err).toBeInstanceOf(DomainValidationError);
      expect((err as DomainValidationError).errors).toEqual([
        { path: "displayName", rule: "is 80000 bytes as stored; Table storage allows at most 65536 bytes (64 KiB) per string property" },
      ]);
      const fields = Array.from({ length: 2000 }, (_, i) => ({ path: `galleries[${i}]`, rule: "must be a gallery resource id" }));
      const big = await rejection(registry.recordRequest(request({ state: "rejected", fields })));
      expect((big as DomainValidationError).errors[0]?.path).toBe("fields");
      expect(await registry.getRequest(REQUEST_ID)).toBeUndefined();
    });
  });

  describe("creation slots", () => {
    const T = "2026-01-08T09:00:00.000Z";
    const LATER = "2026-01-08T10:00:00.000Z";
    const MUCH_LATER = "2026-01-08T12:00:00.000Z";

    it("gives each holder one of the slots, renews a holder's own, refuses when all are held, and frees on release", async () => {
      const { registry } = fresh();
      const take = (holder: string, now = T) => registry.acquireCreationSlot(holder, now, LATER, 3);
      expect([await take("a"), await take("b"), await take("c"), await take("d")]).toEqual([true, true, true, false]);
      expect(await take("a")).toBe(true); // renews, takes no second slot
      expect(await take("d")).toBe(false);
      expect(await registry.releaseCreationSlot("b")).toBe(true);
      expect(await registry.releaseCreationSlot("b")).toBe(false);
      expect(await take("d")).toBe(true);
      expect(await take("e")).toBe(false);
      // Leases that ran out (holders that never freed them) are free again.
      expect(await take("e", MUCH_LATER)).toBe(true);
    });

    it("never gives more slots than there are to callers racing for them", async () => {
      const { registry } = fresh();
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => registry.acquireCreationSlot(`h${i}`, T, LATER, 4)));
      expect(results.filter(Boolean)).toHaveLength(4);
    });
  });

  it("creates the table on the next call after a failed creation", async () => {
    const { registry, proxy } = await behindProxy("registryretried", [{ method: "POST", path: /\/Tables(\?|$)/, status: 503, count: 1 }]);
    await expect(registry.putTenant(tenant())).rejects.toThrow();
    expect(proxy.failed).toBe(1);
    await registry.putTenant(tenant());
    expect((await registry.getTenant(TENANT))?.record).toEqual(tenant());
  });
});
