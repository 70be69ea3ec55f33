// Per-request context handed to route handlers.
import type { Core } from "./core";
import type { JsonObject } from "./http";
import type { OpError } from "./lro";

/** A verified bearer token. */
export interface Caller {
  tenantId: string;
  objectId: string;
  appId?: string;
  issuer: string;
  claims: JsonObject;
}

export interface Ctx {
  core: Core;
  /** Set by the ARM pipeline after authentication. */
  caller?: Caller;
  /** Verified tokens of `x-ms-authorization-auxiliary` (ARM routes; empty without the header). */
  auxiliary?: Caller[];
  /** The request's api-version (ARM routes). */
  apiVersion?: string;
  /** A scripted fault asked that this request's long-running operation end badly. */
  forcedOutcome?: { status: "Failed" | "Canceled"; error: OpError };
}

export function callerOf(ctx: Ctx): Caller {
  if (!ctx.caller) throw new Error("route needs an authenticated caller");
  return ctx.caller;
}
