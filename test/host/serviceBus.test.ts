// Service Bus queue triggers from the in-process queue: peek-lock, abandon and redelivery,
// MaxDeliveryCountExceeded, explicit dead-lettering, duplicate detection.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixtureState, startFixtureHost, type FixtureHost } from "./support";

let fx: FixtureHost;
beforeAll(async () => {
  fx = await startFixtureHost({ serviceBus: { maxDeliveryCount: 5 } });
});
afterAll(async () => {
  await fx.host.close();
});
beforeEach(async () => {
  (await fixtureState()).jobs.length = 0;
});

describe("Service Bus queue trigger", () => {
  it("delivers a message once and completes it (queue name from %JOBS_QUEUE%)", async () => {
    const { host } = fx;
    host.serviceBus.send("jobs", { body: { kind: "ok", id: "1" }, messageId: "m-ok" });
    await host.serviceBus.drain();
    const jobs = (await fixtureState()).jobs;
    expect(jobs).toEqual([{ body: { kind: "ok", id: "1" }, deliveryCount: 1, messageId: "m-ok" }]);
    expect(host.serviceBus.activeCount("jobs")).toBe(0);
    expect(host.serviceBus.deadLetters("jobs")).toEqual([]);
  });

  it("abandons on a throw, redelivers with a growing delivery count, and dead-letters after maxDeliveryCount", async () => {
    const { host } = fx;
    host.serviceBus.send("jobs", { body: { kind: "fail" }, messageId: "m-fail" });
    await host.serviceBus.drain();
    const jobs = (await fixtureState()).jobs;
    expect(jobs.map((j) => j.deliveryCount)).toEqual([1, 2, 3, 4, 5]);
    const dead = host.serviceBus.deadLetters("jobs");
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      messageId: "m-fail",
      body: { kind: "fail" },
      deadLetterReason: "MaxDeliveryCountExceeded",
      deadLetterErrorDescription: "Message could not be consumed after 5 delivery attempts.",
      deliveryCount: 5,
    });
    expect(host.serviceBus.activeCount("jobs")).toBe(0);
  });

  it("lets the handler dead-letter explicitly with a reason and description", async () => {
    const { host } = fx;
    host.serviceBus.send("jobs", { body: { kind: "deadletter" }, messageId: "m-dl", applicationProperties: { tenant: "t1" } });
    await host.serviceBus.drain();
    expect((await fixtureState()).jobs).toHaveLength(1);
    const dead = host.serviceBus.deadLetters("jobs").find((m) => m.messageId === "m-dl");
    expect(dead).toMatchObject({ deadLetterReason: "InvalidMessage", deadLetterErrorDescription: "kind 'deadletter' is not a job", deliveryCount: 1 });
    expect(dead?.applicationProperties).toMatchObject({ tenant: "t1", DeadLetterReason: "InvalidMessage" });
  });

  it("keeps an explicit settlement even when the handler throws afterwards", async () => {
    const { host } = fx;
    host.serviceBus.send("jobs", { body: { kind: "settle-then-throw" }, messageId: "m-st" });
    await host.serviceBus.drain();
    expect((await fixtureState()).jobs).toHaveLength(1);
    expect(host.serviceBus.deadLetters("jobs").some((m) => m.messageId === "m-st")).toBe(false);
  });

  it("drops a duplicate messageId within the detection window, accepts it again after", async () => {
    const { host, clock } = fx;
    host.serviceBus.send("jobs", { body: { kind: "ok", id: "first" }, messageId: "m-dup" });
    host.serviceBus.send("jobs", { body: { kind: "ok", id: "second" }, messageId: "m-dup" });
    await host.serviceBus.drain();
    expect((await fixtureState()).jobs.map((j) => (j.body as { id: string }).id)).toEqual(["first"]);
    clock.advance(11 * 60 * 1000);
    host.serviceBus.send("jobs", { body: { kind: "ok", id: "third" }, messageId: "m-dup" });
    await host.serviceBus.drain();
    expect((await fixtureState()).jobs.map((j) => (j.body as { id: string }).id)).toEqual(["first", "third"]);
  });

  it("keeps messages of a queue nobody listens to", async () => {
    const { host } = fx;
    host.serviceBus.send("nobody-listens", { body: "x" });
    await host.serviceBus.drain();
    expect(host.serviceBus.activeCount("nobody-listens")).toBe(1);
  });
});
