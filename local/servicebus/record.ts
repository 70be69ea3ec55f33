// What the broker did, kept in memory and, with a path (SERVICEBUS_RECORD), appended to a JSON
// Lines file like the ARM emulator's EMULATOR_RECORD. Tokens are summarised (audience, key name,
// expiry) and never written; as a second guard every line is scrubbed of the key and of anything
// shaped like a signature before it is kept.
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Clock } from "../clock";

export interface BrokerRecordEntry {
  /** Broker clock time (ISO). */
  time: string;
  /** Wall-clock time (epoch ms). */
  realTime: number;
  event: string;
  [field: string]: unknown;
}

export const REDACTED = "REDACTED";

export class BrokerRecorder {
  private readonly entries: BrokerRecordEntry[] = [];
  private readonly secrets: string[];

  constructor(
    readonly path: string | undefined,
    private readonly clock: Clock,
    secrets: readonly string[],
  ) {
    this.secrets = secrets.filter((s) => s.length >= 8);
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  add(event: string, fields: Record<string, unknown> = {}): void {
    const line = this.scrub(JSON.stringify({ time: new Date(this.clock.now()).toISOString(), realTime: Date.now(), event, ...fields }, jsonSafe));
    this.entries.push(JSON.parse(line) as BrokerRecordEntry);
    // Synchronous append: the file stays in order and complete if the process is killed.
    if (this.path) appendFileSync(this.path, line + "\n");
  }

  all(): BrokerRecordEntry[] {
    return [...this.entries];
  }

  private scrub(line: string): string {
    let out = line.replace(/SharedAccessSignature [^"]*/g, `SharedAccessSignature ${REDACTED}`).replace(/sig=[^&"\s]+/g, `sig=${REDACTED}`);
    for (const secret of this.secrets) {
      for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])) out = out.split(form).join(REDACTED);
    }
    return out;
  }
}

/** Buffers as short hex, bigints as strings: records stay readable JSON. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object" && value !== null && (value as { type?: unknown }).type === "Buffer" && Array.isArray((value as { data?: unknown }).data)) {
    const data = (value as { data: number[] }).data;
    return { bytes: data.length };
  }
  return value;
}
