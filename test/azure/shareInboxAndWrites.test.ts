// The share inbox and the ARM write schedule against real Azurite with the real @azure/data-tables:
// arrival order, positions, unreadable rows, and slots booked by many writers at once.
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../../local/azurite";
import { createShareInbox } from "../../src/azure/shareInbox";
import { createArmWriteSchedule } from "../../src/azure/writeSchedule";
import type { ShareChange } from "../../src/domain/shareChanges";

const SUB = "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10";
const gallery = (n: number) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g${n}`;
const change = (n: number, g: number): ShareChange => ({
  requestId: `req-${n}`,
  galleryId: gallery(g),
  add: { tenantIds: [`72f988bf-86f1-41af-91ab-${String(n).padStart(12, "0")}`] },
  replyTo: { instanceId: `sender-${n}`, eventName: "ShareResult" },
});

let azurite: Azurite;
let tables = 0;
const options = () => ({ connection: { connectionString: azurite.connectionString }, tableName: `inbox${++tables}` });

beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe("share inbox (Azurite)", () => {
  it("keeps changes in arrival order, says where one stands, and removes what was answered", async () => {
    const inbox = createShareInbox(options());
    const keys: string[] = [];
    for (const [n, g] of [
      [1, 1],
      [2, 2],
      [3, 1],
      [4, 3],
    ] as const)
      keys.push((await inbox.enqueue(SUB, change(n, g))).key);
    const { changes } = await inbox.peek(SUB, 10);
    expect(changes.map((c) => c.change.requestId)).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    expect(await inbox.position(SUB, keys[3]!)).toEqual({ queued: true, ahead: 3, galleriesAhead: 3 });
    expect(await inbox.remove(SUB, [keys[0]!, keys[2]!, keys[0]!])).toBe(2);
    expect(await inbox.position(SUB, keys[0]!)).toMatchObject({ queued: false });
    expect((await inbox.peek(SUB, 1)).changes.map((c) => c.change.requestId)).toEqual(["req-2"]);
  });

  it("takes out a row nobody can read, and says so", async () => {
    const opts = options();
    const inbox = createShareInbox(opts);
    await inbox.enqueue(SUB, change(1, 1));
    const raw = TableClient.fromConnectionString(azurite.connectionString, opts.tableName, { allowInsecureConnection: true });
    await raw.createEntity({ partitionKey: `share-inbox-${SUB}`, rowKey: "000000000000000-bad", change: "{not json" });
    const first = await inbox.peek(SUB, 10);
    expect(first.unreadable).toEqual(["000000000000000-bad"]);
    expect(first.changes.map((c) => c.change.requestId)).toEqual(["req-1"]);
    expect((await inbox.peek(SUB, 10)).unreadable).toEqual([]);
  });
});

describe("ARM write schedule (Azurite)", () => {
  it("hands 40 writers booking at once 40 different slots: 20 at once (after a reserve of 180), then one every 100 ms", async () => {
    const schedule = createArmWriteSchedule(options());
    const t0 = Date.UTC(2026, 0, 1, 8, 0, 0);
    // 160 booked earlier by share calls and others, then 40 role assignments at once.
    for (let i = 0; i < 160; i++) await schedule.reserve(SUB, t0, 0);
    const slots = await Promise.all(Array.from({ length: 40 }, () => schedule.reserve(SUB, t0, 20)));
    const offsets = slots.map((s) => s - t0).sort((a, b) => a - b);
    expect(offsets.filter((o) => o === 0)).toHaveLength(20);
    expect(offsets.slice(20)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100));
  });
});
