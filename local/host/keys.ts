// Function keys as the host checks them: `code` query parameter or `x-functions-key` header.
// authLevel anonymous: no key; function: the function key (here one host-wide "default" key) or the
// master key; admin: the master key only. System keys (eventgrid_extension, durabletask_extension)
// guard the extension webhooks; the master key opens them too.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { HostRequest } from "./httpServer";

export interface HostKeys {
  readonly functionKey: string;
  readonly masterKey: string;
  readonly systemKeys: Readonly<Record<"eventgrid_extension" | "durabletask_extension", string>>;
}

export function newKey(): string {
  // Same shape as the host's generated keys: URL-safe base64, 40+ characters.
  return randomBytes(40).toString("base64url");
}

export function createKeys(functionKey?: string, masterKey?: string): HostKeys {
  return {
    functionKey: functionKey ?? newKey(),
    masterKey: masterKey ?? newKey(),
    systemKeys: { eventgrid_extension: newKey(), durabletask_extension: newKey() },
  };
}

export function presentedKey(req: HostRequest): string | undefined {
  return req.url.searchParams.get("code") ?? req.headers["x-functions-key"] ?? undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function keyMatches(presented: string | undefined, ...accepted: string[]): boolean {
  if (presented === undefined || presented === "") return false;
  return accepted.some((k) => same(presented, k));
}

export function authorized(req: HostRequest, authLevel: string, keys: HostKeys): boolean {
  const level = authLevel.toLowerCase();
  if (level === "anonymous") return true;
  const key = presentedKey(req);
  if (level === "admin") return keyMatches(key, keys.masterKey);
  return keyMatches(key, keys.functionKey, keys.masterKey);
}
