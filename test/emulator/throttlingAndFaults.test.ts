// Acceptance: 429s carry Retry-After and the SDK's own retry policy gets through them; scripted
// faults (status + count, seeded probability, dropped connection, delay, failing LRO) and the
// Compute RP's per-operation windows on the share call.
import { afterEach, describe, expect, it } from "vitest";
import { PUB, publisherCompute, restError, startWorld, type TestWorld } from "./helpers";

let w: TestWorld | undefined;

afterEach(async () => {
  await w?.emu.close();
  w = undefined;
});

describe("ARM throttling", () => {
  it("answers 429 + Retry-After when the read bucket is empty, and the SDK retries through it", async () => {
    w = await startWorld({ throttling: { reads: { burst: 2, perSecond: 1 } } });
    const world = w;
    const client = publisherCompute(world);
    // Tokens refill on the emulator's clock: move the virtual clock while the SDK waits Retry-After in real time.
    const ticker = setInterval(() => world.clock.advance(500), 100);
    try {
      for (let i = 0; i < 4; i++) await client.galleries.get(PUB.resourceGroup, PUB.gallery);
    } finally {
      clearInterval(ticker);
    }
    const gets = world.emu.control.requestLog().filter((e) => e.method === "GET" && e.url.includes(`/galleries/${PUB.gallery}?`));
    const throttled = gets.filter((e) => e.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    for (const t of throttled) {
      expect(t.responseHeaders["retry-after"]).toBe("1");
      expect(t.responseHeaders["x-ms-ratelimit-remaining-subscription-reads"]).toBe("0");
      expect((t.responseBody as { error: { code: string } }).error.code).toBe("SubscriptionRequestsThrottled");
    }
    expect(gets.filter((e) => e.status === 200)).toHaveLength(4);
    expect(gets[0]?.responseHeaders["x-ms-ratelimit-remaining-subscription-reads"]).toBe("1");
  });

  it("the share POST is limited to 10 per 3 minutes per subscription (Compute's PostShareGallery window)", async () => {
    w = await startWorld();
    const token = w.emu.control.issueToken({ tenantId: PUB.tenantId, appId: PUB.appId });
    const share = () =>
      fetch(
        `${w?.emu.armEndpoint}/subscriptions/${PUB.subscriptionId}/resourceGroups/${PUB.resourceGroup}/providers/Microsoft.Compute/galleries/${PUB.gallery}/share?api-version=2025-12-03`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ operationType: "Add", groups: [{ type: "Subscriptions", ids: [w?.consumer(1).subscriptionId] }] }),
        },
      );
    const remaining: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await share();
      expect(res.status).toBe(202);
      remaining.push(res.headers.get("x-ms-ratelimit-remaining-resource") ?? "");
    }
    expect(remaining[0]).toBe("Microsoft.Compute/PostShareGallery3Min;9,Microsoft.Compute/PostShareGallery30Min;59");
    expect(remaining[9]).toBe("Microsoft.Compute/PostShareGallery3Min;0,Microsoft.Compute/PostShareGallery30Min;50");
    const refused = await share();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { code: string; details: { code: string; target: string }[] } };
    expect(body.error.code).toBe("OperationNotAllowed");
    expect(body.error.details[0]).toMatchObject({ code: "TooManyRequests", target: "PostShareGallery3Min" });
    w.clock.advance(3 * 60_000);
    expect((await share()).status).toBe(202);
  });

  it("throttling: false turns all of it off", async () => {
    w = await startWorld({ throttling: false });
    const client = publisherCompute(w);
    for (let i = 0; i < 5; i++) await client.galleries.get(PUB.resourceGroup, PUB.gallery);
    const last = w.emu.control.requestLog().at(-1);
    expect(last?.responseHeaders["x-ms-ratelimit-remaining-subscription-reads"]).toBeUndefined();
    expect(last?.responseHeaders["x-ms-ratelimit-remaining-resource"]).toBeUndefined();
  });
});

describe("scripted faults", () => {
  it("a status fault with a count fires that many times, then the SDK's retry gets through", async () => {
    w = await startWorld();
    const id = w.emu.control.fault({ method: "GET", path: `/galleries/${PUB.gallery}?`, status: 503, count: 2, retryAfterSeconds: 0 });
    expect(id).toMatch(/^fault-/);
    const g = await publisherCompute(w).galleries.get(PUB.resourceGroup, PUB.gallery);
    expect(g.name).toBe(PUB.gallery);
    const statuses = w.emu.control
      .requestLog()
      .filter((e) => e.url.includes(`/galleries/${PUB.gallery}?`))
      .map((e) => e.status);
    expect(statuses).toEqual([503, 503, 200]);
  });

  it("probabilistic faults are seeded: the same seed hits the same requests", async () => {
    const pattern = async (seed: number): Promise<number[]> => {
      const x = await startWorld({ seed });
      try {
        x.emu.control.fault({ path: /\/galleries\//, status: 500, probability: 0.5 });
        const out: number[] = [];
        for (let i = 0; i < 16; i++)
          out.push(
            (
              await fetch(
                `${x.emu.armEndpoint}${`/subscriptions/${PUB.subscriptionId}/resourceGroups/${PUB.resourceGroup}/providers/Microsoft.Compute/galleries/${PUB.gallery}`}?api-version=2025-12-03`,
              )
            ).status,
          );
        return out;
      } finally {
        await x.emu.close();
      }
    };
    const a = await pattern(3);
    expect(new Set(a)).toEqual(new Set([500, 401]));
    expect(await pattern(3)).toEqual(a);
    expect(await pattern(4)).not.toEqual(a);
  });

  it("a dropped connection is retried by the SDK; a delay only slows the answer", async () => {
    w = await startWorld();
    w.emu.control.fault({ method: "GET", path: `/galleries/${PUB.gallery}?`, drop: true });
    const client = publisherCompute(w);
    await client.galleries.get(PUB.resourceGroup, PUB.gallery);
    const statuses = w.emu.control
      .requestLog()
      .filter((e) => e.url.includes(`/galleries/${PUB.gallery}?`))
      .map((e) => e.status);
    expect(statuses).toEqual([0, 200]);
    w.emu.control.fault({ method: "GET", path: `/galleries/${PUB.gallery}?`, delayMs: 300 });
    const started = Date.now();
    await client.galleries.get(PUB.resourceGroup, PUB.gallery);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("a failing LRO: the share POST is accepted (202) but its operation ends Failed and nothing changes", async () => {
    w = await startWorld();
    w.emu.control.fault({ method: "POST", path: "/share", lro: "fail", code: "InternalExecutionError", message: "Sharing failed inside Compute." });
    const client = publisherCompute(w);
    const err = await restError(
      client.gallerySharingProfile.update(PUB.resourceGroup, PUB.gallery, {
        operationType: "Add",
        groups: [{ type: "Subscriptions", ids: [w.consumer(1).subscriptionId] }],
      }),
    );
    expect(err.message).toContain("Sharing failed inside Compute.");
    const log = w.emu.control.requestLog();
    expect(log.find((e) => e.method === "POST" && e.url.includes("/share?"))?.status).toBe(202);
    const poll = log.find((e) => e.url.includes("/capsOperations/") && !e.url.includes("monitor=true"));
    expect(poll?.responseBody).toMatchObject({ status: "Failed", error: { code: "InternalExecutionError" } });
    const g = await client.galleries.get(PUB.resourceGroup, PUB.gallery, { expand: "SharingProfile/Groups" });
    expect(g.sharingProfile?.groups).toEqual([]);
  });
});
