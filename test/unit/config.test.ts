import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import { SETTINGS } from "../../src/settings";

const GALLERY = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden_images";
const minimal = { GALLERY_IDS: GALLERY, AZURE_TENANT_ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", AzureWebJobsStorage: "UseDevelopmentStorage=true" };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies every default when only the required settings are given", () => {
    const config = loadConfig(minimal);
    expect(config.galleryIds).toEqual([GALLERY]);
    expect(config.armEndpoint).toBe("https://management.azure.com");
    expect(config.authorityHost).toBe("https://login.microsoftonline.com");
    expect(config.shareLimits).toEqual({ maxSubscriptions: 30, maxTenants: 5 });
    expect(config.polling).toEqual({ minSeconds: 30, maxSeconds: 900, timeoutMinutes: 720 });
    expect(config.retry).toEqual({ attempts: 6, firstSeconds: 5 });
    expect(config.outcomeTopicEndpoint).toBeUndefined();
    expect(config.clientSecret).toBeUndefined();
    expect(config.audit).toEqual({ tableName: "shareaudit", connectionString: "UseDevelopmentStorage=true" });
  });

  it("names each missing required setting and what it is", () => {
    const found = problems({});
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GALLERY_IDS is required \(Comma-separated resource ids/),
        expect.stringMatching(/^AZURE_TENANT_ID is required/),
        expect.stringMatching(/^AzureWebJobsStorage is required: a connection string, or AzureWebJobsStorage__accountName/),
      ]),
    );
  });

  it("reports every invalid setting at once, naming the setting and the expected form", () => {
    const found = problems({
      ...minimal,
      GALLERY_IDS: `${GALLERY},/subscriptions/nope/galleries/x`,
      AZURE_TENANT_ID: "not-a-guid",
      ARM_ENDPOINT: "http://management.azure.com",
      SHARE_TENANT_IDS: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, tenant-two",
      SHARE_MAX_TENANTS: "five",
      REPLICATION_POLL_MIN_SECONDS: "1000",
      REPLICATION_POLL_MAX_SECONDS: "100",
      AUDIT_TABLE_NAME: "no-dashes",
    });
    expect(found).toEqual([
      'GALLERY_IDS: "/subscriptions/nope/galleries/x" must be a gallery resource id like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/galleries/{gallery}',
      'SHARE_MAX_TENANTS must be a whole number from 1 to 5; got "five"',
      'SHARE_TENANT_IDS: "tenant-two" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)',
      'AZURE_TENANT_ID must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); got "not-a-guid"',
      'ARM_ENDPOINT must be an https URL; got "http://management.azure.com"',
      'AUDIT_TABLE_NAME must be 3-63 letters and digits, starting with a letter; got "no-dashes"',
      "REPLICATION_POLL_MIN_SECONDS must not exceed REPLICATION_POLL_MAX_SECONDS",
    ]);
  });

  it("refuses a publisher name with control or bidirectional characters: the consent page shows it", () => {
    expect(problems({ ...minimal, PUBLISHER_DISPLAY_NAME: "Contoso\u202E Images" })).toEqual([
      "PUBLISHER_DISPLAY_NAME must not contain bidirectional control characters (the consent page shows it)",
    ]);
    expect(problems({ ...minimal, PUBLISHER_DISPLAY_NAME: "Contoso\r\nImages" })[0]).toMatch(/^PUBLISHER_DISPLAY_NAME must not contain control characters/);
  });

  it("reads GATED_IMAGES as images of managed galleries in canonical casing, with the rings and the soak; refuses others, naming the setting", () => {
    const image = `${GALLERY}/images/ubuntu`;
    expect(loadConfig(minimal).rollout).toEqual({ gatedImages: [], rings: 3, soakMinutes: 60 });
    const config = loadConfig({ ...minimal, GATED_IMAGES: ` ${image.toLowerCase()} `, ROLLOUT_RINGS: "2", ROLLOUT_SOAK_MINUTES: "0" });
    expect(config.rollout).toEqual({ gatedImages: [`${config.galleryIds[0]}/images/ubuntu`], rings: 2, soakMinutes: 0 });
    const other = GALLERY.replace(/galleries\/[^/]+$/, "galleries/other");
    expect(problems({ ...minimal, GATED_IMAGES: `${other}/images/ubuntu,${GALLERY}` })).toEqual([
      expect.stringMatching(/^GATED_IMAGES: .*must be an image of a gallery in GALLERY_IDS/),
      expect.stringMatching(/^GATED_IMAGES: .*must be an image definition id/),
    ]);
    expect(problems({ ...minimal, GATED_IMAGES: GALLERY })[0]).toMatch(/^GATED_IMAGES: .*must be an image definition id/);
    expect(problems({ ...minimal, ROLLOUT_RINGS: "11" })[0]).toMatch(/^ROLLOUT_RINGS/);
  });

  it("names the consent app after CROSS_TENANT_APP_NAME (the registration's display name), gallery-share when unset, and refuses one with control characters", () => {
    expect(loadConfig(minimal).consent.appName).toBe("gallery-share");
    expect(loadConfig({ ...minimal, CROSS_TENANT_APP_NAME: " Contoso Image Sharing " }).consent.appName).toBe("Contoso Image Sharing");
    expect(problems({ ...minimal, CROSS_TENANT_APP_NAME: "Contoso\u202E Images" })).toEqual([
      "CROSS_TENANT_APP_NAME must not contain bidirectional control characters (the consent page shows it)",
    ]);
  });

  it("refuses settings that could never match an event or be shared, naming the setting", () => {
    const gallery = (sub: string, rg: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/g1`;
    const guid = (n: number) => `${String(n).padStart(8, "0")}-0000-4000-8000-000000000000`;
    expect(problems({ ...minimal, GALLERY_IDS: ",," })).toEqual([
      "GALLERY_IDS must be gallery resource ids (/subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{name}), comma-separated; got only commas",
    ]);
    expect(problems({ ...minimal, GALLERY_IDS: gallery("11111111-2222-3333-4444-555555555555", "rg images") })[0]).toMatch(
      /^GALLERY_IDS: ".*" must be a gallery resource id: resourceGroup must be 1-90 letters/,
    );
    expect(problems({ ...minimal, GALLERY_IDS: gallery("11111111-2222-3333-4444-555555555555", "r".repeat(91)) })[0]).toMatch(
      /^GALLERY_IDS: .* resourceGroup must be 1-90/,
    );
    expect(problems({ ...minimal, GALLERY_IDS: gallery("-".repeat(36), "rg") })[0]).toMatch(/^GALLERY_IDS: .* subscriptionId must be a GUID/);
    expect(problems({ ...minimal, GALLERY_IDS: `${GALLERY},${GALLERY.toUpperCase()}` })).toEqual([expect.stringMatching(/^GALLERY_IDS lists ".*" twice$/)]);
    expect(problems({ ...minimal, SHARE_TENANT_IDS: [1, 2, 3, 4, 5, 6].map(guid).join(",") })).toEqual([
      "SHARE_TENANT_IDS lists 6 tenants; a gallery can be shared directly with at most 5 (SHARE_MAX_TENANTS); use rbac mode for more",
    ]);
    expect(problems({ ...minimal, SHARE_SUBSCRIPTION_IDS: [1, 2, 3].map(guid).join(","), SHARE_MAX_SUBSCRIPTIONS: "2" })).toEqual([
      "SHARE_SUBSCRIPTION_IDS lists 3 subscriptions; a gallery can be shared directly with at most 2 (SHARE_MAX_SUBSCRIPTIONS)",
    ]);
    expect(problems({ ...minimal, SHARE_MAX_SUBSCRIPTIONS: "31" })).toEqual(['SHARE_MAX_SUBSCRIPTIONS must be a whole number from 1 to 30; got "31"']);
  });

  it("echoes a bad value escaped and cut short, so a setting cannot forge a log line", () => {
    const [problem] = problems({ ...minimal, AZURE_TENANT_ID: `x\nFORGED ${"y".repeat(500)}` });
    expect(problem).not.toContain("\n");
    expect(problem!.length).toBeLessThan(200);
  });

  it("takes the cross-tenant app with its federated credential, or one documented fallback", () => {
    const appId = "bbbbbbbb-cccc-dddd-eeee-ffffffffffff";
    expect(loadConfig(minimal).crossTenant).toBeUndefined();
    expect(loadConfig({ ...minimal, CROSS_TENANT_APP_ID: appId.toUpperCase() }).crossTenant).toEqual({ appId, credential: "federated" });
    expect(loadConfig({ ...minimal, CROSS_TENANT_APP_ID: appId, CROSS_TENANT_CERTIFICATE_PATH: "/certs/app.pem" }).crossTenant).toEqual({
      appId,
      credential: "certificate",
      certificatePath: "/certs/app.pem",
    });
    expect(problems({ ...minimal, CROSS_TENANT_CLIENT_SECRET: "s3cr3t" })).toEqual([
      "CROSS_TENANT_CLIENT_SECRET and CROSS_TENANT_CERTIFICATE_PATH need CROSS_TENANT_APP_ID, the app they belong to",
    ]);
    expect(problems({ ...minimal, CROSS_TENANT_APP_ID: appId, CROSS_TENANT_CLIENT_SECRET: "s3cr3t", CROSS_TENANT_CERTIFICATE_PATH: "/p" })).toEqual([
      "set at most one of CROSS_TENANT_CLIENT_SECRET and CROSS_TENANT_CERTIFICATE_PATH",
    ]);
  });

  it("needs the client id when a client secret is set, and never echoes the secret", () => {
    const found = problems({ ...minimal, AZURE_CLIENT_SECRET: "s3cr3t-value-never-shown" });
    expect(found).toEqual(["AZURE_CLIENT_SECRET is set but AZURE_CLIENT_ID is empty: a secret needs the app's client id"]);
    expect(found.join("\n")).not.toContain("s3cr3t-value-never-shown");
  });

  it("uses the identity-based storage account in Azure", () => {
    const { AzureWebJobsStorage: _omit, ...rest } = minimal;
    expect(loadConfig({ ...rest, AzureWebJobsStorage__accountName: "stgallery" }).audit).toEqual({
      tableName: "shareaudit",
      tableServiceUri: "https://stgallery.table.core.windows.net",
    });
    expect(loadConfig({ ...rest, AzureWebJobsStorage__tableServiceUri: "https://stgallery.table.core.windows.net/" }).audit).toEqual({
      tableName: "shareaudit",
      tableServiceUri: "https://stgallery.table.core.windows.net",
    });
  });

  it("normalises lists: trims, drops empty items, lower-cases GUIDs, strips a trailing slash from URLs", () => {
    const config = loadConfig({
      ...minimal,
      SHARE_SUBSCRIPTION_IDS: " AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE , ,",
      OUTCOME_TOPIC_ENDPOINT: "https://topic.westeurope-1.eventgrid.azure.net/api/events/",
    });
    expect(config.shareSubscriptionIds).toEqual(["aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"]);
    expect(config.outcomeTopicEndpoint).toBe("https://topic.westeurope-1.eventgrid.azure.net/api/events");
  });

  it("marks the secret settings so nothing prints them", () => {
    expect(
      SETTINGS.filter((s) => "secret" in s && s.secret)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["AZURE_CLIENT_SECRET", "AzureWebJobsStorage", "CONSENT_STATE_KEY", "CROSS_TENANT_CLIENT_SECRET", "ServiceBusConnection"]);
  });
});
