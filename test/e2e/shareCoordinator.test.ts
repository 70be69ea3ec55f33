// The share coordinator: every share change of a subscription's galleries goes through one
// orchestration, which merges what arrives together and paces calls to Compute's budget.
import { describe, expect, it } from "vitest";
import { CONSUMERS, PUBLISHER, versionWriteEvent } from "../../local/fixtures/world";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { coordinatorInstanceId } from "../../src/domain/orchestrationNames";
import { armLog, isShareCall, useWorlds } from "./support";

const worlds = useWorlds();

describe("share coordinator", () => {
  it("makes one share call for five versions of one gallery that finish replicating at the same instant", async () => {
    const w = await worlds.start();
    const versions = ["9.0.0", "9.0.1", "9.0.2", "9.0.3", "9.0.4"];
    const ids = versions.map((v) => w.publishVersion(v, { regionMinutes: { westeurope: 30, northeurope: 30, eastus: 30 } }));
    expect((await w.deliver(ids.map((id) => versionWriteEvent(id)))).status).toBe(202);
    for (const id of ids) {
      const status = await w.host.durable.waitFor(publishInstanceId(id));
      expect(status.runtimeStatus, JSON.stringify(status.customStatus)).toBe("Completed");
    }
    const shares = armLog(w).filter(isShareCall);
    expect(shares).toHaveLength(1);
    expect(shares[0]!.status).toBeLessThan(300);
    // Every publish was told what its share did: one of them saw the tenants added, in the one call.
    const outputs = ids.map(
      (id) =>
        w.host.durable.getStatus(publishInstanceId(id))!.output as {
          shareCalls: number;
          added: { tenantIds: string[] };
          alreadyShared: { tenantIds: string[] };
        },
    );
    expect(outputs.every((o) => o.shareCalls === 1)).toBe(true);
    for (const o of outputs) expect([...o.added.tenantIds, ...o.alreadyShared.tenantIds].sort()).toEqual(CONSUMERS.map((c) => c.tenantId).sort());
    // One coordinator for the publisher's subscription, and it shows its budget.
    const coordinator = w.host.durable.getStatus(coordinatorInstanceId(PUBLISHER.subscriptionId));
    expect(coordinator?.name).toBe("shareCoordinator");
    expect(coordinator?.customStatus).toMatchObject({ callsInLast30Minutes: 1 });
  });

  it("answers a change sent again with its first answer, without a second share call", async () => {
    const w = await worlds.start();
    const id = w.publishVersion("9.1.0", { regionMinutes: { westeurope: 10, northeurope: 10, eastus: 10 } });
    await w.deliver([versionWriteEvent(id)]);
    expect((await w.host.durable.waitFor(publishInstanceId(id))).runtimeStatus).toBe("Completed");
    const coordinatorId = coordinatorInstanceId(PUBLISHER.subscriptionId);
    const before = armLog(w).filter(isShareCall).length;
    // A forged or repeated change: the same requestId as the publish's.
    await w.host.durable.raiseEvent(coordinatorId, "ShareChange", {
      requestId: `${publishInstanceId(id)}:ensure`,
      galleryId: id.split("/images/")[0],
      ensureRegistered: true,
      replyTo: { instanceId: "nobody-waits", eventName: "ShareResult" },
    });
    await w.host.durable.raiseEvent(coordinatorId, "ShareChange", { nonsense: true });
    await w.host.durable.runUntilIdle();
    w.emulator.control.advance(60_000);
    await w.host.durable.runUntilIdle();
    expect(armLog(w).filter(isShareCall).length).toBe(before);
  });
});
