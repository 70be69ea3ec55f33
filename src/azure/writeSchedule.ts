// The ARM write schedule of each subscription (src/domain/writeBudget.ts) in the registry's table
// (partition `arm-writes`, one row per subscription), booked with ETag-checked writes so app
// instances running at once never hand out the same slot.
import { guidKey } from "../domain/registryKeys";
import { reserveWrite, type WriteSchedule } from "../domain/writeBudget";
import type { RegistryOptions } from "./registryRecords";
import { statusOf, tableAccess } from "./registryTable";

const PARTITION = "arm-writes";
/** Bookings that race for the row: each lost race reads again, after a few milliseconds drawn at random so racers part. */
const ATTEMPTS = 100;
const MAX_PAUSE_MS = 25;

export interface ArmWriteSchedule {
  /** Books one write in the subscription's schedule: when it may go (epoch ms, `now` when the budget has room). */
  reserve(subscriptionId: string, now: number, reserve: number): Promise<number>;
}

interface ScheduleRow {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly tat?: unknown;
  readonly etag?: string;
}

export function createArmWriteSchedule(options: RegistryOptions): ArmWriteSchedule {
  const table = tableAccess(options);
  return {
    async reserve(subscriptionId, now, reserve) {
      const t = await table();
      const rowKey = guidKey("subscriptionId", subscriptionId);
      for (let attempt = 1; ; attempt++) {
        const row = await t.getEntity<ScheduleRow>(PARTITION, rowKey).catch((err: unknown) => {
          if (statusOf(err) === 404) return undefined;
          throw err;
        });
        const current: WriteSchedule | undefined = typeof row?.tat === "number" ? { tat: row.tat } : undefined;
        const booked = reserveWrite(current, now, reserve);
        try {
          if (row?.etag) await t.updateEntity({ partitionKey: PARTITION, rowKey, tat: booked.schedule.tat }, "Replace", { etag: row.etag });
          else await t.createEntity({ partitionKey: PARTITION, rowKey, tat: booked.schedule.tat });
          return booked.at;
        } catch (err) {
          // Another write booked a slot between our read and our write: read again.
          const status = statusOf(err);
          if (status !== 412 && status !== 409) throw err;
          // Still racing: the orchestration tries again later (a retryable conflict), never a failed write.
          if (attempt >= ATTEMPTS)
            throw Object.assign(new Error(`the ARM write schedule of subscription ${rowKey} kept changing (${ATTEMPTS} attempts)`), {
              statusCode: 409,
              code: "RetryableError",
            });
          await new Promise((resolve) => setTimeout(resolve, Math.random() * MAX_PAUSE_MS));
        }
      }
    },
  };
}
