// A small router: ARM paths are matched segment by segment, literals case-insensitively
// (clients send `resourcegroups` as well as `resourceGroups`), parameters keep their case.
// A leading `{*scope}` captures any prefix, for extension resources such as role assignments.
import type { EmuRequest, EmuResponse } from "./http";

export type RouteKind = "arm" | "entra" | "control" | "eventgrid";

export interface Route<C> {
  method: string;
  pattern: string;
  kind: RouteKind;
  /** Api-version family checked by the ARM pipeline (see arm/apiVersions.ts). */
  family?: string;
  handler: (req: EmuRequest, ctx: C) => EmuResponse | Promise<EmuResponse>;
}

interface Compiled<C> {
  route: Route<C>;
  scope: boolean;
  segments: string[];
}

export interface Match<C> {
  route: Route<C>;
  params: Record<string, string>;
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

export class Router<C> {
  private readonly routes: Compiled<C>[] = [];

  add(route: Route<C>): void {
    const segments = split(route.pattern);
    const scope = segments[0] === "{*scope}";
    this.routes.push({ route, scope, segments: scope ? segments.slice(1) : segments });
  }

  addAll(routes: Iterable<Route<C>>): void {
    for (const r of routes) this.add(r);
  }

  /** Returns the match, or `methodNotAllowed` when the path exists under another method. */
  match(method: string, path: string): Match<C> | { methodNotAllowed: true } | undefined {
    const parts = split(path);
    let pathMatched = false;
    for (const c of this.routes) {
      const params = c.scope ? matchTail(c.segments, parts) : matchExact(c.segments, parts);
      if (!params) continue;
      if (c.route.method !== method) {
        pathMatched = true;
        continue;
      }
      return { route: c.route, params };
    }
    return pathMatched ? { methodNotAllowed: true } : undefined;
  }
}

function matchSegments(pattern: string[], parts: string[], offset: number): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? "";
    const s = parts[offset + i];
    if (s === undefined) return undefined;
    if (p.startsWith("{") && p.endsWith("}")) params[p.slice(1, -1)] = s;
    else if (p.toLowerCase() !== s.toLowerCase()) return undefined;
  }
  return params;
}

function matchExact(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  return matchSegments(pattern, parts, 0);
}

function matchTail(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const offset = parts.length - pattern.length;
  if (offset < 0) return undefined;
  const params = matchSegments(pattern, parts, offset);
  if (!params) return undefined;
  params.scope = "/" + parts.slice(0, offset).join("/");
  return params;
}
