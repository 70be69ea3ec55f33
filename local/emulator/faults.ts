// Scripted faults: make a route answer an error, slowly, not at all, or accept the request and
// let its long-running operation fail. Probabilities draw from a seeded stream so runs repeat.
import { SeededStream } from "./util/rng";

export interface FaultSpec {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** RegExp tested against path + query, or a case-insensitive substring of it. */
  path: RegExp | string;
  /** Status to answer with; omit (or 0) to only delay, drop or fail the operation. */
  status?: number;
  /** How many matching requests it applies to; default 1, or unlimited when `probability` is set. */
  count?: number;
  /** Chance (0..1) that a matching request is hit, drawn from the seeded stream. */
  probability?: number;
  retryAfterSeconds?: number;
  /** Real milliseconds to wait before answering (or before passing the request on). */
  delayMs?: number;
  /** Destroy the connection without an answer. */
  drop?: boolean;
  /** Error code in the body (ARM CloudError `code` or Entra `error`). */
  code?: string;
  message?: string;
  /** Accept the request normally but end its long-running operation Failed (or Canceled). */
  lro?: "fail" | "cancel";
}

export interface ActiveFault extends FaultSpec {
  id: string;
  remaining: number;
  hits: number;
}

export class Faults {
  private readonly faults: ActiveFault[] = [];
  private next = 0;
  private readonly stream: SeededStream;

  constructor(seed: number) {
    this.stream = new SeededStream(seed, "faults");
  }

  add(spec: FaultSpec): string {
    this.next += 1;
    const id = `fault-${this.next}`;
    const remaining = spec.count ?? (spec.probability !== undefined ? Number.POSITIVE_INFINITY : 1);
    this.faults.push({ ...spec, id, remaining, hits: 0 });
    return id;
  }

  remove(id: string): boolean {
    const i = this.faults.findIndex((f) => f.id === id);
    if (i >= 0) this.faults.splice(i, 1);
    return i >= 0;
  }

  clear(): void {
    this.faults.length = 0;
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The first fault that fires for this request (consuming one of its uses), if any. */
  match(method: string, pathAndQuery: string): ActiveFault | undefined {
    for (const f of this.faults) {
      if (f.remaining <= 0) continue;
      if (f.method && f.method.toUpperCase() !== method.toUpperCase()) continue;
      const hit = typeof f.path === "string" ? pathAndQuery.toLowerCase().includes(f.path.toLowerCase()) : f.path.test(pathAndQuery);
      if (!hit) continue;
      if (f.probability !== undefined && this.stream.next() >= f.probability) continue;
      f.remaining -= 1;
      f.hits += 1;
      return f;
    }
    return undefined;
  }
}
