// Claims on $cbs with the real SDK: a wrong key, key name or an expired token is refused and the
// SDK reports UnauthorizedAccess; a missing queue is MessagingEntityNotFound; the record file
// never holds the key or a signature.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isServiceBusError, ServiceBusClient } from "@azure/service-bus";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSasToken } from "../../local/servicebus";
import { FAST, startHarness, type Harness } from "./support";

const QUEUE = "onboarding";
const dir = mkdtempSync(path.join(tmpdir(), "servicebus-record-"));
let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function errorCode(p: Promise<unknown>): Promise<{ code?: string; message: string } | undefined> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) return undefined;
  return isServiceBusError(error) ? { code: error.code, message: error.message } : { message: String(error) };
}

describe("local Service Bus: authorisation", () => {
  it("a connection string with the wrong key is refused on put-token: UnauthorizedAccess", async () => {
    h = await startHarness({ queues: [QUEUE] });
    const wrong = h.broker.connectionString.replace(`SharedAccessKey=${h.broker.key}`, "SharedAccessKey=bm90IHRoZSBrZXk=");
    const client = h.connect(wrong);
    expect(await errorCode(client.createSender(QUEUE).sendMessages({ body: "x" }))).toMatchObject({
      code: "UnauthorizedAccess",
      message: expect.stringContaining("InvalidSignature"),
    });
    expect(await errorCode(client.createReceiver(QUEUE).receiveMessages(1, { maxWaitTimeInMs: 1000 }))).toMatchObject({ code: "UnauthorizedAccess" });
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(0);
    expect(
      h.broker
        .records()
        .filter((e) => e.event === "put-token")
        .map((e) => e.status),
    ).toEqual([401, 401]);
  });

  it("a key name that is not the broker's is refused too", async () => {
    h = await startHarness({ queues: [QUEUE], keyName: "SendOnly" });
    const client = h.connect(h.broker.connectionString.replace("SharedAccessKeyName=SendOnly", "SharedAccessKeyName=RootManageSharedAccessKey"));
    expect(await errorCode(client.createSender(QUEUE).sendMessages({ body: "x" }))).toMatchObject({ code: "UnauthorizedAccess" });
  });

  it("a shared access signature in the connection string works until it expires (real time, like the SDK's `se`)", async () => {
    h = await startHarness({ queues: [QUEUE] });
    const { keyName, key, endpoint } = h.broker;
    const sasConnection = (expiry: number): string =>
      `Endpoint=${endpoint};SharedAccessSignature=${createSasToken(keyName, key, endpoint, expiry)};UseDevelopmentEmulator=true`;
    const now = Math.floor(Date.now() / 1000);
    await h
      .connect(sasConnection(now + 600))
      .createSender(QUEUE)
      .sendMessages({ body: "signed" });
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(1);
    expect(
      await errorCode(
        h
          .connect(sasConnection(now - 1))
          .createSender(QUEUE)
          .sendMessages({ body: "expired" }),
      ),
    ).toMatchObject({ code: "UnauthorizedAccess", message: expect.stringContaining("ExpiredToken") });
    // A token for another queue does not cover this one.
    const other = `Endpoint=${endpoint};SharedAccessSignature=${createSasToken(keyName, key, `${endpoint}elsewhere`, now + 600)};UseDevelopmentEmulator=true`;
    expect(await errorCode(h.connect(other).createSender(QUEUE).sendMessages({ body: "x" }))).toMatchObject({ code: "UnauthorizedAccess" });
  });

  it("a queue that does not exist is MessagingEntityNotFound, for senders and receivers", async () => {
    h = await startHarness({ queues: [QUEUE] });
    expect(await errorCode(h.client.createSender("missing").sendMessages({ body: "x" }))).toMatchObject({
      code: "MessagingEntityNotFound",
      message: expect.stringContaining("'sb://127.0.0.1:"),
    });
    expect(await errorCode(h.client.createReceiver("missing").receiveMessages(1, { maxWaitTimeInMs: 1000 }))).toMatchObject({
      code: "MessagingEntityNotFound",
    });
    expect(await errorCode(h.client.createReceiver("missing").peekMessages(1))).toMatchObject({ code: "MessagingEntityNotFound" });
  });

  it("the record file (JSON Lines) holds what happened but never the key or a signature", async () => {
    const recordPath = path.join(dir, "nested", "servicebus.jsonl");
    h = await startHarness({ queues: [QUEUE], recordPath });
    const { key, connectionString } = h.broker;
    await h.client.createSender(QUEUE).sendMessages({ body: { tenantId: "t-1" }, messageId: "req-1" });
    const r = h.client.createReceiver(QUEUE, { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    if (message) await r.completeMessage(message);
    const bad = new ServiceBusClient(connectionString.replace(key, "d3Jvbmcta2V5LXdyb25nLWtleQ=="), FAST);
    await errorCode(bad.createSender(QUEUE).sendMessages({ body: "x" }));
    await bad.close();
    await h.close();
    h = undefined;

    const text = readFileSync(recordPath, "utf8");
    const entries = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(text).not.toContain(key);
    expect(text).not.toContain(encodeURIComponent(key));
    expect(text).not.toMatch(/sig=(?!REDACTED)/);
    expect(text).not.toContain("SharedAccessSignature sr=");
    const tokens = entries.filter((e) => e.event === "put-token");
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expect(tokens[0]).toMatchObject({
      status: 202,
      keyName: "RootManageSharedAccessKey",
      tokenType: "servicebus.windows.net:sastoken",
      audience: expect.stringMatching(/^sb:\/\/127\.0\.0\.1:\d+\/onboarding$/),
    });
    expect(tokens.at(-1)).toMatchObject({ status: 401 });
    expect(entries.map((e) => e.event)).toEqual(expect.arrayContaining(["broker-started", "send", "deliver", "settle", "broker-stopped"]));
    expect(entries.find((e) => e.event === "send")).toMatchObject({ entity: QUEUE, messageId: "req-1", sequenceNumber: 1, body: { tenantId: "t-1" } });
    expect(entries.find((e) => e.event === "settle")).toMatchObject({ disposition: "complete", ok: true });
  });
});
