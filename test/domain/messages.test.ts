import { describe, expect, it } from "vitest";
import { parseTenantMessage, type TenantMessage } from "../../src/domain/messages";
import { DomainValidationError, type FieldError } from "../../src/domain/validation";

/** parseTenantMessage for a message of one kind, throwing its field errors as the app reports them. */
function parseAs<S extends TenantMessage["schema"]>(what: string, schema: S) {
  return (raw: unknown): Extract<TenantMessage, { schema: S }> => {
    const result = parseTenantMessage(raw);
    if (!result.ok) throw new DomainValidationError(`invalid ${what} message`, result.errors);
    if (result.value.schema !== schema) throw new Error(`expected ${schema}, got ${result.value.schema}`);
    return result.value as Extract<TenantMessage, { schema: S }>;
  };
}
const parseOnboarding = parseAs("onboarding", "onboarding/v1");
const parseOffboarding = parseAs("offboarding", "offboarding/v1");

const SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const TENANT = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
const REQUEST = "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f";
const GALLERY = `/subscriptions/${SUB}/resourcegroups/publisher-rg/providers/microsoft.compute/galleries/golden`;
const CANONICAL_GALLERY = `/subscriptions/${SUB}/resourceGroups/publisher-rg/providers/Microsoft.Compute/galleries/golden`;
const SUBNET = `/subscriptions/${SUB}/resourceGroups/contoso-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default`;
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

const onboarding = (changes: Record<string, unknown> = {}): Record<string, unknown> => ({
  schema: "onboarding/v1",
  requestId: REQUEST,
  tenantId: TENANT,
  displayName: "Contoso",
  mode: "direct",
  subscriptionIds: [SUB],
  galleries: [GALLERY],
  ...changes,
});

const vm = (changes: Record<string, unknown> = {}): Record<string, unknown> => ({
  image: "ubuntu-22.04",
  version: "latest",
  size: "Standard_D2s_v5",
  subnetId: SUBNET,
  adminUsername: "azureuser",
  sshPublicKey: SSH_KEY,
  ...changes,
});

const consumer = { subscriptionId: SUB.toUpperCase(), resourceGroup: "contoso-vms", location: "eastus" };

function errorsOf(raw: unknown): FieldError[] {
  const result = parseTenantMessage(raw);
  if (result.ok) throw new Error("expected the message to be rejected");
  return result.errors;
}

describe("onboarding/v1", () => {
  it("parses a direct-mode message, lower-casing GUIDs and canonicalising gallery ids", () => {
    expect(parseOnboarding(onboarding())).toEqual({
      schema: "onboarding/v1",
      requestId: REQUEST,
      tenantId: TENANT.toLowerCase(),
      displayName: "Contoso",
      mode: "direct",
      subscriptionIds: [SUB],
      galleries: [CANONICAL_GALLERY],
    });
  });

  it("parses an rbac-mode message with a consumer and a VM", () => {
    const { subscriptionIds: _s, ...rest } = onboarding({ mode: "rbac", consumer, vm: vm({ version: "1.2.3", sshPublicKey: `${SSH_KEY}\n` }) });
    const parsed = parseOnboarding(rest);
    expect(parsed.consumer).toEqual({ ...consumer, subscriptionId: SUB });
    expect(parsed.vm).toEqual(vm({ version: "1.2.3" }));
  });

  it("takes a rollout ring from 0 to 9, and names the field when it is not one", () => {
    expect(parseOnboarding(onboarding({ ring: 0 })).ring).toBe(0);
    expect(parseOnboarding(onboarding({ ring: 9 })).ring).toBe(9);
    expect(parseOnboarding(onboarding()).ring).toBeUndefined();
    expect(errorsOf(onboarding({ ring: 10 }))).toEqual([{ path: "ring", rule: "must be from 0 to 9 (0: the canaries)" }]);
    expect(errorsOf(onboarding({ ring: 1.5 }))).toEqual([{ path: "ring", rule: "must be a whole number" }]);
    expect(errorsOf(onboarding({ ring: "canary" }))).toEqual([{ path: "ring", rule: "must be a whole number" }]);
  });

  it("goes through parseTenantMessage too", () => {
    const result = parseTenantMessage(onboarding());
    expect(result.ok && result.value.schema).toBe("onboarding/v1");
  });

  it("lists every problem at once, naming paths and rules", () => {
    expect(
      errorsOf(onboarding({ tenantId: "contoso.onmicrosoft.com", requestId: 5, displayName: "  ", mode: "shared", galleries: ["/subscriptions/x"] })),
    ).toEqual([
      { path: "requestId", rule: "must be a string" },
      { path: "tenantId", rule: "must be a GUID" },
      { path: "displayName", rule: "must not be empty" },
      { path: "mode", rule: 'must be one of "direct", "rbac", "principal"' },
      {
        path: "galleries[0]",
        rule: "must be a gallery resource id like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/galleries/{gallery}",
      },
    ]);
  });

  it("throws a DomainValidationError whose message lists the errors", () => {
    expect(() => parseOnboarding(onboarding({ tenantId: "nope", galleries: [] }))).toThrow(
      new DomainValidationError("invalid onboarding message", [
        { path: "tenantId", rule: "must be a GUID" },
        { path: "galleries", rule: "must list at least one gallery" },
      ]),
    );
    expect(() => parseOnboarding(onboarding({ tenantId: "nope" }))).toThrow("invalid onboarding message: tenantId: must be a GUID");
  });

  it("reports required fields", () => {
    expect(errorsOf({ schema: "onboarding/v1" })).toEqual([
      { path: "requestId", rule: "is required" },
      { path: "tenantId", rule: "is required" },
      { path: "displayName", rule: "is required" },
      { path: "mode", rule: "is required" },
      { path: "galleries", rule: "is required" },
    ]);
  });

  it("rejects unknown fields by name, cutting very long names", () => {
    expect(errorsOf(onboarding({ subscriptionID: SUB }))).toEqual([{ path: "subscriptionID", rule: "is not a known field" }]);
    expect(errorsOf(onboarding({ vm: vm({ password: "x" }), consumer }))).toEqual([{ path: "vm.password", rule: "is not a known field" }]);
    const [longKey] = errorsOf(onboarding({ ["k".repeat(200)]: 1 }));
    expect(longKey?.path.length).toBeLessThan(100);
  });

  it("rejects repeated galleries and subscriptions, whatever their casing", () => {
    expect(
      errorsOf(
        onboarding({ galleries: [GALLERY, CANONICAL_GALLERY.toUpperCase().replace(SUB.toUpperCase(), SUB)], subscriptionIds: [SUB, SUB.toUpperCase()] }),
      ),
    ).toEqual([
      { path: "subscriptionIds[1]", rule: "repeats entry [0]" },
      { path: "galleries[1]", rule: "repeats entry [0]" },
    ]);
    expect(errorsOf(onboarding({ subscriptionIds: [] }))).toEqual([{ path: "subscriptionIds", rule: "must list at least one subscription when given" }]);
  });

  it("allows subscriptionIds in direct mode only", () => {
    expect(errorsOf(onboarding({ mode: "rbac", consumer }))).toEqual([
      { path: "subscriptionIds", rule: 'is only allowed when mode is "direct" (rbac mode grants access through the consumer resource group)' },
    ]);
  });

  it("takes a principal in principal mode, and only there", () => {
    const { subscriptionIds: _s, ...base } = onboarding({ mode: "principal" });
    const objectId = "5C2D3E4F-6A7B-4C8D-9E0F-1A2B3C4D5E6F";
    expect(parseOnboarding({ ...base, principal: { objectId, type: "Group" } }).principal).toEqual({ objectId: objectId.toLowerCase(), type: "Group" });
    expect(errorsOf(base)).toEqual([{ path: "principal", rule: 'is required when mode is "principal"' }]);
    expect(errorsOf({ ...base, principal: { objectId: "x", type: "Robot" } }).map((e) => e.path)).toEqual(["principal.objectId", "principal.type"]);
    expect(errorsOf(onboarding({ principal: { objectId, type: "User" } }))).toEqual([{ path: "principal", rule: 'is only allowed when mode is "principal"' }]);
    expect(errorsOf({ ...base, principal: { objectId, type: "User" }, subscriptionIds: [SUB] })).toEqual([
      { path: "subscriptionIds", rule: 'is only allowed when mode is "direct" (principal mode grants access through Reader on the gallery for the principal)' },
    ]);
  });

  it("requires a consumer in rbac mode and whenever a VM is asked for", () => {
    const { subscriptionIds: _s, ...rbac } = onboarding({ mode: "rbac" });
    expect(errorsOf(rbac)).toEqual([{ path: "consumer", rule: 'is required when mode is "rbac"' }]);
    expect(errorsOf(onboarding({ vm: vm() }))).toEqual([{ path: "consumer", rule: "is required when vm is given" }]);
  });

  it("reports field errors and cross-field errors together", () => {
    expect(errorsOf(onboarding({ tenantId: "x", vm: vm() }))).toEqual([
      { path: "tenantId", rule: "must be a GUID" },
      { path: "consumer", rule: "is required when vm is given" },
    ]);
  });

  it("validates the consumer", () => {
    expect(errorsOf(onboarding({ consumer: { subscriptionId: "x", resourceGroup: "rg.", location: "East US!" } }))).toEqual([
      { path: "consumer.subscriptionId", rule: "must be a GUID" },
      { path: "consumer.resourceGroup", rule: "must be 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'" },
      { path: "consumer.location", rule: "must be an Azure region name like eastus" },
    ]);
  });

  it("validates the VM request", () => {
    const bad = vm({
      image: "-img",
      version: "v1",
      size: "Standard D2",
      subnetId: GALLERY,
      adminUsername: "9lives",
      sshPublicKey: "-----BEGIN OPENSSH PRIVATE KEY-----",
    });
    expect(errorsOf(onboarding({ consumer, vm: bad }))).toEqual([
      { path: "vm.image", rule: "must be 1-80 letters, digits, '-', '.' or '_', starting and ending with a letter or digit" },
      { path: "vm.version", rule: 'must be "latest" or major.minor.patch: three whole numbers from 0 to 2147483647' },
      { path: "vm.size", rule: "must be a VM size name like Standard_D2s_v5" },
      {
        path: "vm.subnetId",
        rule: "must be a subnet id like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/virtualNetworks/{virtualNetwork}/subnets/{subnet}",
      },
      { path: "vm.adminUsername", rule: "must be 1-64 letters, digits, '_' or '-', not starting with a digit or '-'" },
      { path: "vm.sshPublicKey", rule: "must be an OpenSSH public key starting with ssh- (one line: type, base64 key, optional comment)" },
    ]);
  });

  it("refuses user names Azure reserves and over-long keys", () => {
    expect(errorsOf(onboarding({ consumer, vm: vm({ adminUsername: "Root" }) }))).toEqual([
      { path: "vm.adminUsername", rule: "is a name Azure reserves (admin, root, …): choose another" },
    ]);
    expect(errorsOf(onboarding({ consumer, vm: vm({ sshPublicKey: `ssh-rsa ${"A".repeat(9000)}` }) }))).toEqual([
      { path: "vm.sshPublicKey", rule: "must be at most 8192 characters" },
    ]);
  });

  it("parses a scale set with its orchestration, instance count and upgrade policy", () => {
    const parsed = parseOnboarding(
      onboarding({ consumer, vmss: vm({ orchestrationMode: "Flexible", instanceCount: 3, upgradePolicy: "Manual", updateOnPublish: true }) }),
    );
    expect(parsed.vmss).toEqual(vm({ orchestrationMode: "Flexible", instanceCount: 3, upgradePolicy: "Manual", updateOnPublish: true }));
  });

  it("names every bad scale-set field, and the rules that tie vm and vmss to the rest of the message", () => {
    expect(errorsOf(onboarding({ consumer, vmss: vm({ orchestrationMode: "flex", instanceCount: 1.5, upgradePolicy: "Rolling" }) }))).toEqual([
      { path: "vmss.orchestrationMode", rule: 'must be one of "Uniform", "Flexible"' },
      { path: "vmss.instanceCount", rule: "must be a whole number" },
      { path: "vmss.upgradePolicy", rule: 'must be one of "Automatic", "Manual"' },
    ]);
    expect(errorsOf(onboarding({ consumer, vmss: vm({ instanceCount: 1001 }) }))).toEqual([
      { path: "vmss.instanceCount", rule: "must be at most 1000 (a scale set's limit with gallery images)" },
    ]);
    expect(errorsOf(onboarding({ vmss: vm() }))).toEqual([{ path: "consumer", rule: "is required when vmss is given" }]);
    expect(errorsOf(onboarding({ consumer, vm: vm({ version: "1.2.3", updateOnPublish: true }) }))).toEqual([
      { path: "vm.updateOnPublish", rule: 'needs version "latest": a pinned version is never moved' },
    ]);
    const { subscriptionIds: _s, ...principal } = onboarding({ mode: "principal", principal: { objectId: SUB, type: "Group" }, consumer, vm: vm() });
    expect(errorsOf(principal)).toEqual([
      { path: "vm", rule: 'is only allowed when mode is "direct" or "rbac" (principal mode grants a person or group Reader, nothing is deployed)' },
    ]);
  });

  it("limits displayName to 256 characters", () => {
    expect(errorsOf(onboarding({ displayName: "x".repeat(257) }))).toEqual([{ path: "displayName", rule: "must be at most 256 characters" }]);
    expect(parseOnboarding(onboarding({ displayName: ` ${"x".repeat(256)} ` })).displayName).toHaveLength(256);
  });

  it("judges a message by its own schema: onboarding fields on an offboarding message are unknown", () => {
    expect(() =>
      parseOffboarding({ schema: "offboarding/v1", requestId: REQUEST, tenantId: TENANT, displayName: "x", mode: "direct", galleries: [GALLERY] }),
    ).toThrow("invalid offboarding message: displayName: is not a known field; mode: is not a known field");
  });

  it("never echoes the rejected values", () => {
    const secretish = "s".repeat(300);
    const err = errorsOf(onboarding({ tenantId: secretish, displayName: 42, galleries: [secretish] }));
    expect(JSON.stringify(err)).not.toContain("sssss");
  });
});

describe("offboarding/v1", () => {
  it("parses with and without galleries", () => {
    expect(parseOffboarding({ schema: "offboarding/v1", requestId: REQUEST.toUpperCase(), tenantId: TENANT })).toEqual({
      schema: "offboarding/v1",
      requestId: REQUEST,
      tenantId: TENANT.toLowerCase(),
    });
    const result = parseTenantMessage({ schema: "offboarding/v1", requestId: REQUEST, tenantId: TENANT, galleries: [GALLERY] });
    expect(result).toEqual({
      ok: true,
      value: { schema: "offboarding/v1", requestId: REQUEST, tenantId: TENANT.toLowerCase(), galleries: [CANONICAL_GALLERY] },
    });
  });

  it("rejects bad fields and unknown fields", () => {
    expect(() => parseOffboarding({ schema: "offboarding/v1", requestId: "r1", tenantId: TENANT, galleries: [], mode: "direct" })).toThrow(
      "invalid offboarding message: requestId: must be a UUID; galleries: must list at least one gallery; mode: is not a known field",
    );
  });

  it("rejects input that is not an object", () => {
    expect(() => parseOffboarding([])).toThrow("invalid offboarding message: must be a JSON object");
    expect(() => parseOnboarding("{}")).toThrow("invalid onboarding message: must be a JSON object");
  });
});

describe("parseTenantMessage dispatch", () => {
  it("names the supported schemas when schema is missing or unknown", () => {
    expect(errorsOf({ requestId: REQUEST })).toEqual([{ path: "schema", rule: 'is required: one of "onboarding/v1", "offboarding/v1"' }]);
    expect(errorsOf({ schema: "onboarding/v2" })).toEqual([{ path: "schema", rule: 'must be one of "onboarding/v1", "offboarding/v1" (got "onboarding/v2")' }]);
    expect(errorsOf({ schema: 2 })).toEqual([{ path: "schema", rule: 'must be one of "onboarding/v1", "offboarding/v1" (got a number)' }]);
    expect(errorsOf({ schema: null })).toEqual([{ path: "schema", rule: 'must be one of "onboarding/v1", "offboarding/v1" (got null)' }]);
  });

  it("rejects input that is not an object", () => {
    expect(errorsOf(null)).toEqual([{ path: "", rule: "must be a JSON object" }]);
    expect(errorsOf([onboarding()])).toEqual([{ path: "", rule: "must be a JSON object" }]);
  });
});

describe("free text a person reads (displayName)", () => {
  it.each([
    ["a NUL", "Fuzz\u0000Co", "control characters"],
    ["a bell and a terminal colour", "Fuzz\u0007\u001b[31mCo", "control characters"],
    ["a forged log line", "Fuzz\n[tenantRequests] information: FORGED", "control characters"],
    ["CR LF", "Fuzz\r\nCo", "control characters"],
    ["DEL and a C1 control", "Fuzz\u007f\u0085Co", "control characters"],
    ["a right-to-left override", "Fab\u202Ekir", "bidirectional control"],
    ["only zero-width spaces", "\u200B\u200B", "visible character"],
    ["a lone surrogate", "\ud800", "lone surrogate"],
  ])("refuses %s, naming the field and the rule", (_what, displayName, rule) => {
    const errors = errorsOf(onboarding({ displayName }));
    expect(errors.map((e) => e.path)).toEqual(["displayName"]);
    expect(errors[0]?.rule).toContain(rule);
  });

  it("accepts names in any script, with emoji, accents and a zero-width joiner", () => {
    for (const displayName of ["Fabrikam GmbH", "Ünïcødé Çorp", "株式会社テスト", "شركة", "Team 👩\u200D💻"])
      expect(parseTenantMessage(onboarding({ displayName })).ok, displayName).toBe(true);
  });
});
