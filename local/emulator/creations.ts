// Creations in flight: a VM or scale-set create is in flight from the PUT that answered 201 until
// its long-running operation ends (Succeeded, Failed or Canceled), i.e. for as long as ARM would
// report it running. Operations here end on their simulated duration or after `pollsToComplete`
// status polls, so "in flight" follows the client's polling as it does on Azure. Tests read the
// current count, the maximum seen and the totals through control.creations().
import type { Operation } from "./lro";

export type CreationKind = "virtualMachine" | "virtualMachineScaleSet";

export interface CreationInFlight {
  kind: CreationKind;
  resourceId: string;
  operationId: string;
  /** Emulator clock (ISO) and wall clock (epoch ms) of the PUT. */
  since: string;
  sinceRealTime: number;
}

export interface CreationStats {
  inFlight: number;
  /** Highest number in flight at once since start, reset() or resetCreations(). */
  maxInFlight: number;
  started: number;
  succeeded: number;
  failed: number;
  current: CreationInFlight[];
}

export class CreationCounter {
  private readonly open = new Map<string, CreationInFlight>();
  private max = 0;
  private started = 0;
  private succeeded = 0;
  private failed = 0;

  /** Call after the handler set `op.onComplete`: the count drops when the operation ends. */
  begin(op: Operation, kind: CreationKind, resourceId: string, now: number): void {
    this.open.set(op.id, { kind, resourceId, operationId: op.id, since: new Date(now).toISOString(), sinceRealTime: Date.now() });
    this.started += 1;
    this.max = Math.max(this.max, this.open.size);
    const previous = op.onComplete;
    op.onComplete = (done) => {
      if (this.open.delete(done.id)) {
        if (done.status === "Succeeded") this.succeeded += 1;
        else this.failed += 1;
      }
      previous?.(done);
    };
  }

  stats(): CreationStats {
    return {
      inFlight: this.open.size,
      maxInFlight: this.max,
      started: this.started,
      succeeded: this.succeeded,
      failed: this.failed,
      current: [...this.open.values()].map((c) => ({ ...c })),
    };
  }

  /** Starts a new measurement: the maximum and totals restart from what is in flight now. */
  resetStats(): void {
    this.max = this.open.size;
    this.started = 0;
    this.succeeded = 0;
    this.failed = 0;
  }

  clear(): void {
    this.open.clear();
    this.max = 0;
    this.started = 0;
    this.succeeded = 0;
    this.failed = 0;
  }
}
