// Answers that reach the peer in one go must each carry their own outcome. rhea writes a session's
// pending dispositions as ranges of consecutive delivery ids, one state per range, and
// (session.js write_dispositions) compares outcomes only once a range already holds two
// deliveries: without the broker's care, a failed settlement answered together with a good one
// (or a refused send together with an accepted one) told the client the first outcome for both.
import { isServiceBusError, type ServiceBusReceivedMessage, type ServiceBusReceiver } from "@azure/service-bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support";

const QUEUE = "onboarding";
const LOCK_MS = 120_000; // PT2M, infra/servicebus-queue.json
let h: Harness;

beforeEach(async () => {
  h = await startHarness({ queues: [QUEUE] });
});
afterEach(async () => {
  await h.close();
});

function receiver(): ServiceBusReceiver {
  // No SDK auto-renewal: it schedules itself on real time and would renew behind the test's back.
  return h.client.createReceiver(QUEUE, { maxAutoLockRenewalDurationInMs: 0 });
}

async function receiveOne(r: ServiceBusReceiver): Promise<ServiceBusReceivedMessage> {
  const [message] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  if (!message) throw new Error("no message received");
  return message;
}

/** undefined for a fulfilled result, else the ServiceBusError code (or the error's text). */
function outcome(result: PromiseSettledResult<unknown>): string | undefined {
  if (result.status === "fulfilled") return undefined;
  const error: unknown = result.reason;
  return isServiceBusError(error) ? error.code : String(error);
}

function settlements(): Array<Record<string, unknown>> {
  return h.broker.records().filter((e) => e.event === "settle");
}

describe("local Service Bus: several answers in one write keep their own outcomes", () => {
  it("a completion whose lock was lost, then a good one in the same tick: MessageLockLost, then completed", async () => {
    await h.client.createSender(QUEUE).sendMessages([
      { body: "late", messageId: "m1" },
      { body: "on time", messageId: "m2" },
    ]);
    const r = receiver();
    const m1 = await receiveOne(r); // locked until t0 + PT2M
    h.clock.advance(LOCK_MS / 2);
    const m2 = await receiveOne(r); // locked until t0 + PT3M
    h.clock.advance(LOCK_MS / 2); // m1's lock ends, m2's holds
    const [lost, held] = h.broker.queues.peek(QUEUE);
    expect(lost).toMatchObject({ messageId: "m1", deliveryCount: 1 });
    expect(lost?.lockedUntil).toBeUndefined();
    expect(held).toMatchObject({ messageId: "m2", deliveryCount: 0, lockedUntil: new Date(h.clock.now() + LOCK_MS / 2).toISOString() });

    // Both completions leave in one disposition frame; the broker answers both in one write.
    const results = await Promise.allSettled([r.completeMessage(m1), r.completeMessage(m2)]);
    expect(results.map(outcome)).toEqual(["MessageLockLost", undefined]);

    expect(settlements()).toMatchObject([
      { sequenceNumber: m1.sequenceNumber?.toNumber(), disposition: "complete", ok: false, condition: "com.microsoft:message-lock-lost" },
      { sequenceNumber: m2.sequenceNumber?.toNumber(), disposition: "complete", ok: true },
    ]);
    // m2 is gone; m1 is available again, and is redelivered.
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ activeMessageCount: 1, lockedMessageCount: 0 });
    expect(h.broker.queues.peek(QUEUE)).toMatchObject([{ messageId: "m1", deliveryCount: 1 }]);
    const again = await receiveOne(r);
    expect(again).toMatchObject({ messageId: "m1", deliveryCount: 1 });
    await r.completeMessage(again);
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(0);
  });

  it("a good completion, then one whose lock was lost: completed, then MessageLockLost (not reported completed)", async () => {
    await h.client.createSender(QUEUE).sendMessages([
      { body: "renewed", messageId: "m1" },
      { body: "late", messageId: "m2" },
    ]);
    const r = receiver();
    const m1 = await receiveOne(r);
    h.clock.advance(LOCK_MS / 2);
    const m2 = await receiveOne(r); // locked until t0 + PT3M
    h.clock.advance(LOCK_MS / 4);
    await r.renewMessageLock(m1); // at t0 + 1.5 min: locked until t0 + 3.5 min
    h.clock.advance(LOCK_MS * 0.75); // t0 + PT3M: m2's lock ends, m1's holds
    expect(h.broker.queues.get(QUEUE)?.lockedMessageCount).toBe(1);

    const results = await Promise.allSettled([r.completeMessage(m1), r.completeMessage(m2)]);
    expect(results.map(outcome)).toEqual([undefined, "MessageLockLost"]);
    expect(h.broker.queues.peek(QUEUE)).toMatchObject([{ messageId: "m2", deliveryCount: 1 }]);
  });

  it("mixed outcomes in one write (complete, lost, lost, dead-letter, complete, complete) each get their own answer", async () => {
    const ids = ["a", "b", "c", "d", "e", "f"];
    await h.client.createSender(QUEUE).sendMessages(ids.map((messageId) => ({ body: messageId, messageId })));
    const r = receiver();
    // a, b and c are received first, so their locks end first (a's is renewed); the others come PT1M later.
    const early = await r.receiveMessages(3, { maxWaitTimeInMs: 5000 });
    expect(early.map((m) => m.messageId)).toEqual(["a", "b", "c"]);
    h.clock.advance(LOCK_MS / 2);
    const late = await r.receiveMessages(3, { maxWaitTimeInMs: 5000 });
    expect(late.map((m) => m.messageId)).toEqual(["d", "e", "f"]);
    const [a] = early;
    if (!a) throw new Error("no message a");
    await r.renewMessageLock(a);
    h.clock.advance(LOCK_MS / 2); // b's and c's locks end
    const messages = [...early, ...late];

    const results = await Promise.allSettled(
      messages.map((m) =>
        m.messageId === "d" ? r.deadLetterMessage(m, { deadLetterReason: "Bad", deadLetterErrorDescription: "bad input" }) : r.completeMessage(m),
      ),
    );
    expect(results.map(outcome)).toEqual([undefined, "MessageLockLost", "MessageLockLost", undefined, undefined, undefined]);
    expect(h.broker.queues.peek(QUEUE).map((m) => m.messageId)).toEqual(["b", "c"]);
    expect(h.broker.queues.peek(QUEUE, "deadLetter")).toMatchObject([{ messageId: "d", deadLetterReason: "Bad" }]);
  });

  it("many completions in one tick all succeed", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
    await h.client.createSender(QUEUE).sendMessages(ids.map((messageId) => ({ body: messageId, messageId })));
    const r = receiver();
    const messages = await r.receiveMessages(20, { maxWaitTimeInMs: 5000 });
    expect(messages).toHaveLength(20);
    const results = await Promise.allSettled(messages.map((m) => r.completeMessage(m)));
    expect(results.map(outcome)).toEqual(ids.map(() => undefined));
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(0);
  });

  it("a refused send and an accepted one on the same link in one write keep their own outcomes", async () => {
    const sender = h.client.createSender(QUEUE);
    await sender.sendMessages({ body: "warm up", messageId: "w" }); // the link is open: both sends below leave together
    const big = { body: "x".repeat(300 * 1024), messageId: "big" };
    const small = { body: "small", messageId: "small" };

    const first = await Promise.allSettled([sender.sendMessages(big), sender.sendMessages(small)]);
    expect(first.map(outcome)).toEqual(["MessageSizeExceeded", undefined]);
    const second = await Promise.allSettled([sender.sendMessages({ ...small, messageId: "small-2" }), sender.sendMessages({ ...big, messageId: "big-2" })]);
    expect(second.map(outcome)).toEqual([undefined, "MessageSizeExceeded"]);
    expect(h.broker.queues.peek(QUEUE).map((m) => m.messageId)).toEqual(["w", "small", "small-2"]);
  });
});
