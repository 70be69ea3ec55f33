// Sending through the real SDK: batches (one AMQP transfer in the batch message format),
// duplicate detection on the broker clock, peek, scheduled messages and time-to-live.
import { isServiceBusError } from "@azure/service-bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support";

const QUEUE = "onboarding";
const DAY = 86_400_000;
let h: Harness;

beforeEach(async () => {
  h = await startHarness({ queues: [QUEUE] });
});
afterEach(async () => {
  await h.close();
});

function receiver() {
  return h.client.createReceiver(QUEUE, { maxAutoLockRenewalDurationInMs: 0 });
}

describe("local Service Bus: sending", () => {
  it("a batch (createMessageBatch or an array) arrives as one transfer and is enqueued message by message", async () => {
    const sender = h.client.createSender(QUEUE);
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * 1024); // the link's max-message-size (Standard tier)
    for (const n of [1, 2, 3]) expect(batch.tryAddMessage({ body: { n }, messageId: `b-${n}`, subject: `s${n}`, applicationProperties: { n } })).toBe(true);
    await sender.sendMessages(batch);
    await sender.sendMessages([
      { body: "a4", messageId: "b-4" },
      { body: "a5", messageId: "b-5", correlationId: "c5" },
    ]);

    const sends = h.broker.records().filter((e) => e.event === "send");
    expect(sends.map((e) => [e.messageId, e.batch])).toEqual([
      ["b-1", true],
      ["b-2", true],
      ["b-3", true],
      ["b-4", true],
      ["b-5", true],
    ]);
    const messages = await receiver().receiveMessages(5, { maxWaitTimeInMs: 5000 });
    expect(messages.map((m) => [m.messageId, m.sequenceNumber?.toNumber(), m.body])).toEqual([
      ["b-1", 1, { n: 1 }],
      ["b-2", 2, { n: 2 }],
      ["b-3", 3, { n: 3 }],
      ["b-4", 4, "a4"],
      ["b-5", 5, "a5"],
    ]);
    expect(messages[1]).toMatchObject({ subject: "s2", applicationProperties: { n: 2 } });
    expect(messages[4]).toMatchObject({ correlationId: "c5" });
  });

  it("a repeated messageId within the duplicate window is dropped (the send still succeeds); after the window it is new", async () => {
    const sender = h.client.createSender(QUEUE);
    await sender.sendMessages({ body: "first", messageId: "req-1" });
    await sender.sendMessages({ body: "retried", messageId: "req-1" });
    await sender.sendMessages([
      { body: "other", messageId: "req-2" },
      { body: "again", messageId: "req-1" },
    ]);
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ activeMessageCount: 2, duplicatesDropped: 2 });
    expect(h.broker.queues.peek(QUEUE).map((m) => [m.messageId, m.body])).toEqual([
      ["req-1", "first"],
      ["req-2", "other"],
    ]);

    h.clock.advance(DAY - 1); // P1D window: still a duplicate
    await sender.sendMessages({ body: "late retry", messageId: "req-1" });
    expect(h.broker.queues.get(QUEUE)?.duplicatesDropped).toBe(3);
    h.clock.advance(1);
    await sender.sendMessages({ body: "new request", messageId: "req-1" });
    expect(h.broker.queues.peek(QUEUE).map((m) => m.body)).toEqual(["first", "other", "new request"]);
  });

  it("peek returns messages without locking them, continues after the last one, and shows locks", async () => {
    await h.client.createSender(QUEUE).sendMessages([{ body: "p1" }, { body: "p2" }, { body: "p3" }]);
    const r = receiver();
    const peeked = await r.peekMessages(2);
    expect(peeked.map((m) => [m.body, m.sequenceNumber?.toNumber(), m.deliveryCount, m.lockToken])).toEqual([
      ["p1", 1, 0, undefined],
      ["p2", 2, 0, undefined],
    ]);
    expect((await r.peekMessages(5)).map((m) => m.body)).toEqual(["p3"]);
    expect(await r.peekMessages(5)).toEqual([]);

    const [locked] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    const again = await r.peekMessages(5, { fromSequenceNumber: peeked[0]?.sequenceNumber });
    expect(again.map((m) => m.body)).toEqual(["p1", "p2", "p3"]);
    expect(again[0]?.lockedUntilUtc?.getTime()).toBe(locked?.lockedUntilUtc?.getTime());
    expect(again[1]?.lockedUntilUtc).toBeUndefined();
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ activeMessageCount: 3, lockedMessageCount: 1 });
  });

  it("a scheduled message stays invisible until its time on the broker clock; a cancelled one never comes", async () => {
    const sender = h.client.createSender(QUEUE);
    const at = new Date(h.clock.now() + 60_000);
    const [kept] = await sender.scheduleMessages({ body: "on time", messageId: "sched-1" }, at);
    const [cancelled] = await sender.scheduleMessages({ body: "never", messageId: "sched-2" }, at);
    if (!kept || !cancelled) throw new Error("no sequence numbers");
    expect([kept.toNumber(), cancelled.toNumber()]).toEqual([1, 2]);
    await sender.cancelScheduledMessages(cancelled);
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ scheduledMessageCount: 1, activeMessageCount: 0 });
    const r = receiver();
    expect((await r.peekMessages(5)).map((m) => [m.body, m.state])).toEqual([["on time", "scheduled"]]);
    await expect(r.receiveMessages(1, { maxWaitTimeInMs: 200 })).resolves.toEqual([]);

    h.clock.advance(60_000);
    const [message] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(message).toMatchObject({ body: "on time", state: "active" });
    expect(message?.enqueuedTimeUtc?.getTime()).toBe(at.getTime());
  });

  it("a message past its time-to-live is dead-lettered (deadLetteringOnMessageExpiration) instead of delivered", async () => {
    await h.client.createSender(QUEUE).sendMessages([
      { body: "short-lived", messageId: "ttl-1", timeToLive: 30_000 },
      { body: "default ttl", messageId: "ttl-2" },
    ]);
    h.clock.advance(30_000);
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ activeMessageCount: 1, deadLetterMessageCount: 1 });
    const [live] = await receiver().receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(live?.messageId).toBe("ttl-2");
    // P14D from infra/servicebus-queue.json caps the time-to-live the receiver sees.
    expect(live?.timeToLive).toBe(14 * DAY);
    const dlq = h.client.createReceiver(QUEUE, { subQueueType: "deadLetter", receiveMode: "receiveAndDelete" });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(dead).toMatchObject({
      messageId: "ttl-1",
      deadLetterReason: "TTLExpiredException",
      deadLetterErrorDescription: "The message expired and was dead lettered.",
    });
  });

  it("a message over 256 KB is refused with MessageSizeExceeded", async () => {
    const error = await h.client
      .createSender(QUEUE)
      .sendMessages({ body: "x".repeat(300 * 1024) })
      .catch((e: unknown) => e);
    expect(isServiceBusError(error) && error.code).toBe("MessageSizeExceeded");
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(0);
  });
});
