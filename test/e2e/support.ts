// Helpers for the end-to-end tests: reading the emulator's request log the way the assertions need it.
import type { World } from "../../local/demo/world";

export interface LoggedExchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly responseBody?: unknown;
  readonly time?: number | string;
  /** Wall-clock arrival (epoch ms): SDK retry waits are real time even when the emulator's clock is virtual. */
  readonly realTime?: number;
  readonly responseHeaders?: Record<string, string>;
}

export function armLog(world: World): LoggedExchange[] {
  return world.emulator.control.requestLog() as LoggedExchange[];
}

export const isShareCall = (x: LoggedExchange): boolean => x.method === "POST" && /\/galleries\/[^/]+\/share\?/i.test(x.url);
export const isVersionRead = (x: LoggedExchange): boolean =>
  x.method === "GET" && /\/images\/[^/]+\/versions\/[^/?]+\?/i.test(x.url) && /expand=ReplicationStatus/i.test(x.url);

export function aggregatedState(x: LoggedExchange): string | undefined {
  const body = x.responseBody as { properties?: { replicationStatus?: { aggregatedState?: string } } } | undefined;
  return body?.properties?.replicationStatus?.aggregatedState;
}

export function timeOf(x: LoggedExchange): number {
  return typeof x.time === "number" ? x.time : Date.parse(String(x.time));
}
