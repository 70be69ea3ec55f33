// Long-running operations. Real ARM answers a write with 201/202 plus an `azure-asyncoperation`
// URL (and `location` with monitor=true for POST/DELETE); clients poll it until the status body
// `{startTime, endTime?, status, name}` says Succeeded/Failed. Here an operation completes when its
// simulated duration has passed on the shared clock or after `pollsToComplete` status polls,
// whichever comes first: a test on a virtual clock that never advances still sees short operations
// (share, gallery create, VM create) finish, while replication follows the clock only (`probe`).
import type { Clock } from "../clock";
import { GuidSequence } from "./util/rng";
import { opTime } from "./util/time";

export type OpFamily = "caps" | "compute" | "network";
export type OpStatus = "InProgress" | "Succeeded" | "Failed" | "Canceled";

export interface OpError {
  code: string;
  message: string;
}

export interface ProbeResult {
  status: "Succeeded" | "Failed";
  endAt: number;
  error?: OpError;
}

export interface Operation {
  id: string;
  family: OpFamily;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  startTime: number;
  endTime?: number;
  status: OpStatus;
  error?: OpError;
  polls: number;
  pollsToComplete: number;
  completesAt: number;
  /** Forced outcome from a scripted fault. */
  forced?: { status: "Failed" | "Canceled"; error: OpError };
  /** For operations whose end depends on simulated work (replication): undefined while running. */
  probe?: (now: number) => ProbeResult | undefined;
  /** Body of the final `location` (monitor) answer once succeeded; none = empty body. */
  result?: unknown;
  /** Applies the operation's effect (or marks the resource failed) exactly once. */
  onComplete?: (op: Operation) => void;
}

export interface NewOperation {
  family: OpFamily;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  durationMs: number;
  probe?: Operation["probe"];
  onComplete?: Operation["onComplete"];
  forced?: Operation["forced"];
}

export class Operations {
  private readonly ops = new Map<string, Operation>();
  private readonly ids: GuidSequence;

  constructor(
    private readonly clock: Clock,
    seed: number,
    private readonly pollsToComplete: number,
    private readonly durationScale = 1,
  ) {
    this.ids = new GuidSequence(seed, "operation");
  }

  create(spec: NewOperation): Operation {
    const now = this.clock.now();
    const op: Operation = {
      id: this.ids.next(),
      family: spec.family,
      subscriptionId: spec.subscriptionId,
      location: spec.location,
      apiVersion: spec.apiVersion,
      startTime: now,
      status: "InProgress",
      polls: 0,
      pollsToComplete: this.pollsToComplete,
      completesAt: now + Math.round(spec.durationMs * this.durationScale),
      ...(spec.probe ? { probe: spec.probe } : {}),
      ...(spec.onComplete ? { onComplete: spec.onComplete } : {}),
      ...(spec.forced ? { forced: spec.forced } : {}),
    };
    this.ops.set(op.id, op);
    return op;
  }

  get(id: string): Operation | undefined {
    return this.ops.get(id.toLowerCase());
  }

  /** Counts a status poll, then settles. */
  poll(id: string): Operation | undefined {
    const op = this.get(id);
    if (!op) return undefined;
    if (op.status === "InProgress") op.polls += 1;
    this.settleOne(op, this.clock.now());
    return op;
  }

  /** Completes every operation that is due; called before each request so reads see effects. */
  settle(): void {
    const now = this.clock.now();
    for (const op of this.ops.values()) if (op.status === "InProgress") this.settleOne(op, now);
  }

  /** Completes an operation now regardless of time (control-plane seeding). */
  finish(op: Operation): void {
    if (op.status !== "InProgress") return;
    op.completesAt = Math.min(op.completesAt, this.clock.now());
    op.pollsToComplete = 0;
    this.settleOne(op, this.clock.now());
  }

  /** Completes `op` if it is due. */
  settleOne(op: Operation, now: number): void {
    if (op.status !== "InProgress") return;
    if (op.probe) {
      const result = op.probe(now);
      if (!result) return;
      op.endTime = Math.max(op.startTime, result.endAt);
      op.status = op.forced?.status ?? result.status;
      const error = op.forced?.error ?? result.error;
      if (error) op.error = error;
    } else {
      if (now < op.completesAt && op.polls < op.pollsToComplete) return;
      op.endTime = Math.min(now, Math.max(op.startTime, op.completesAt));
      op.status = op.forced?.status ?? "Succeeded";
      if (op.forced) op.error = op.forced.error;
    }
    op.onComplete?.(op);
  }

  clear(): void {
    this.ops.clear();
  }
}

/** The operation-status body: `endTime` only once finished, `error` only on failure. */
export function statusBody(op: Operation): Record<string, unknown> {
  const body: Record<string, unknown> = { startTime: opTime(op.startTime) };
  if (op.endTime !== undefined) body.endTime = opTime(op.endTime);
  body.status = op.status;
  if (op.error) body.error = op.error;
  body.name = op.id;
  return body;
}

/** `azure-asyncoperation` (and `location` when asked) for an operation, shaped per provider. */
export function asyncHeaders(op: Operation, baseUrl: string, withLocation: boolean): Record<string, string> {
  const sub = `${baseUrl}/subscriptions/${op.subscriptionId}`;
  const headers: Record<string, string> = {};
  switch (op.family) {
    case "caps": {
      const url = `${sub}/providers/Microsoft.Compute/locations/${op.location}/capsOperations/${op.id}`;
      headers["azure-asyncoperation"] = `${url}?api-version=${op.apiVersion}`;
      if (withLocation) headers.location = `${url}?monitor=true&api-version=${op.apiVersion}`;
      break;
    }
    case "compute": {
      const url = `${sub}/providers/Microsoft.Compute/locations/${op.location}/operations/${op.id}`;
      headers["azure-asyncoperation"] = `${url}?p=${op.id}&api-version=${op.apiVersion}`;
      if (withLocation) headers.location = `${url}?p=${op.id}&monitor=true&api-version=${op.apiVersion}`;
      break;
    }
    case "network": {
      const base = `${sub}/providers/Microsoft.Network/locations/${op.location}`;
      headers["azure-asyncoperation"] = `${base}/operations/${op.id}?api-version=${op.apiVersion}`;
      if (withLocation) headers.location = `${base}/operationResults/${op.id}?api-version=${op.apiVersion}`;
      break;
    }
  }
  return headers;
}
