// A missing or invalid setting stops the app while the host loads it, naming the setting.
// (Its own test file: a module loads once per process, and this must be the first load.)
import { describe, expect, it } from "vitest";
import { startLocalHost } from "../../local/host";

describe("start-up", () => {
  it("refuses to start with invalid settings, naming each one and never echoing the secret", async () => {
    const started = startLocalHost({
      load: () => import("../../src/app.js"),
      settings: {
        AzureWebJobsStorage: "UseDevelopmentStorage=true",
        AZURE_TENANT_ID: "contoso",
        AZURE_CLIENT_SECRET: "do-not-print-me",
      },
    });
    const error = await started.then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/GALLERY_IDS is required/);
    expect(error?.message).toMatch(/AZURE_TENANT_ID must be a GUID/);
    expect(error?.message).toMatch(/AZURE_CLIENT_SECRET is set but AZURE_CLIENT_ID is empty/);
    expect(error?.message).not.toContain("do-not-print-me");
  });
});
