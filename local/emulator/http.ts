// Request/response shapes shared by every route module.
import type { IncomingHttpHeaders } from "node:http";

export interface EmuRequest {
  readonly method: string;
  /** Full URL as the client addressed it (https://127.0.0.1:PORT/...). */
  readonly url: URL;
  /** Decoded path without the query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
  /** Parsed JSON, or the form fields for application/x-www-form-urlencoded, else undefined. */
  readonly body: unknown;
  /** Path parameters captured by the router (original case). */
  params: Record<string, string>;
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON body; omitted = empty body. */
  body?: unknown;
  /** Raw text body (HTML pages, redirects); wins over `body`. */
  text?: string;
  /** Pretty-print the JSON like the Compute RP does for single resources (`\r\n`, 2 spaces). */
  pretty?: boolean;
}

/** Case-insensitive query lookup: ARM treats `$expand` / `$EXPAND` alike. */
export function queryParam(req: EmuRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of req.url.searchParams) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function header(req: EmuRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(", ") : v;
}

// JSON navigation helpers: request bodies are untrusted `unknown`.
export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function bool(v: unknown): boolean | undefined {
  return typeof v === "boolean" ? v : undefined;
}

export function arr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/** Reads a nested property: `at(body, "properties", "storageProfile")`. */
export function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}
