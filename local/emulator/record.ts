// Request log: every exchange kept in memory and, with EMULATOR_RECORD=<path>, appended to a JSON
// Lines file for the contract test (oav) and for debugging. Secrets never reach the log.
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export interface RequestLogEntry {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
  /** Emulator clock time (ISO) when the request arrived. */
  time: string;
  /** Wall-clock arrival (epoch ms): client retry waits (Retry-After) happen in real time even on a virtual clock. */
  realTime: number;
}

const SECRET_HEADERS = new Set(["authorization", "x-ms-authorization-auxiliary", "x-identity-header", "aeg-sas-key", "aeg-sas-token"]);
const SECRET_FIELDS = new Set(["client_secret", "client_assertion", "access_token", "refresh_token", "id_token", "assertion"]);
export const REDACTED = "REDACTED";
/** In form bodies: short, so a recorded `client_secret=***` can never be mistaken for a real secret. */
export const FORM_REDACTED = "***";

export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const name = k.toLowerCase();
    const value = Array.isArray(v) ? v.join(", ") : v;
    out[name] = SECRET_HEADERS.has(name) ? redactBearer(value) : value;
  }
  return out;
}

function redactBearer(value: string): string {
  return value
    .split(",")
    .map((part) => (/^\s*bearer\s/i.test(part) ? "Bearer REDACTED" : REDACTED))
    .join(", ");
}

/** Parsed JSON where it is JSON (secret fields redacted), form bodies redacted field by field, else text. */
export function bodyForLog(raw: Buffer | string | undefined, contentType: string | undefined): unknown {
  if (raw === undefined || raw.length === 0) return null;
  const text = typeof raw === "string" ? raw : raw.toString("utf8");
  const ct = (contentType ?? "").toLowerCase();
  if (ct.includes("application/x-www-form-urlencoded")) {
    const params = new URLSearchParams(text);
    for (const k of [...params.keys()]) if (SECRET_FIELDS.has(k)) params.set(k, FORM_REDACTED);
    return params.toString();
  }
  try {
    return redactJson(JSON.parse(text));
  } catch {
    return text;
  }
}

function redactJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactJson);
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) out[k] = SECRET_FIELDS.has(k) ? REDACTED : redactJson(val);
    return out;
  }
  return v;
}

export class Recorder {
  private entries: RequestLogEntry[] = [];

  constructor(private readonly path: string | undefined) {
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  add(entry: RequestLogEntry): void {
    this.entries.push(entry);
    // Synchronous append keeps the file in request order and complete if the process is killed.
    if (this.path) appendFileSync(this.path, JSON.stringify(entry) + "\n");
  }

  all(): RequestLogEntry[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }
}
