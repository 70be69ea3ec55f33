// The creation slots: a semaphore over the registry table that bounds how many VMs and scale sets
// are created at once. One row per slot, holding its holder and lease; every take and release is
// an ETag-checked write, so two callers never get the same slot and a crashed holder's lease ends.
import { CREATION_SLOT_PARTITION } from "../domain/registryKeys";
import { SLOT, encode, type CreationSlot } from "./registryCodec";
import { RegistryConflictError, type Registry, type Stored } from "./registryRecords";
import { odata, type RegistryRows } from "./registryTable";

const slotKey = (index: number): string => String(index).padStart(4, "0");

async function acquireCreationSlot(rows: RegistryRows, holder: string, now: string, until: string, creationsInFlight: number): Promise<boolean> {
  if (holder === "") throw new RangeError("a creation slot's holder must not be empty");
  const held = await rows.list(SLOT, odata`PartitionKey eq ${CREATION_SLOT_PARTITION}`);
  const take = async (row: Stored<CreationSlot> | undefined, slot: string): Promise<boolean> => {
    const next = encode(SLOT, { slot, holder, until });
    try {
      if (row) await rows.replace(`creation slot ${slot}`, next, row.etag);
      else await rows.create(`creation slot ${slot}`, next);
      return true;
    } catch (err) {
      if (err instanceof RegistryConflictError) return false; // another caller was quicker
      throw err;
    }
  };
  const mine = held.find((s) => s.record.holder === holder);
  if (mine && (await take(mine, mine.record.slot))) return true;
  const bySlot = new Map(held.map((s) => [s.record.slot, s]));
  for (let index = 0; index < creationsInFlight; index++) {
    const row = bySlot.get(slotKey(index));
    const free = !row || row.record.holder === "" || Date.parse(row.record.until) <= Date.parse(now);
    if (free && (await take(row, slotKey(index)))) return true;
  }
  return false;
}

async function releaseCreationSlot(rows: RegistryRows, holder: string): Promise<boolean> {
  const held = await rows.list(SLOT, odata`PartitionKey eq ${CREATION_SLOT_PARTITION}`);
  let released = false;
  for (const row of held.filter((s) => s.record.holder === holder)) {
    try {
      await rows.replace(`creation slot ${row.record.slot}`, encode(SLOT, { ...row.record, holder: "" }), row.etag);
      released = true;
    } catch (err) {
      // Taken over after its lease ran out: it is not ours to free any more.
      if (!(err instanceof RegistryConflictError)) throw err;
    }
  }
  return released;
}

/** The registry's creation-slot methods over its rows. */
export function creationSlots(rows: RegistryRows): Pick<Registry, "acquireCreationSlot" | "releaseCreationSlot"> {
  return {
    acquireCreationSlot: async (holder, now, until, creationsInFlight) => acquireCreationSlot(rows, holder, now, until, creationsInFlight),
    releaseCreationSlot: async (holder) => releaseCreationSlot(rows, holder),
  };
}
