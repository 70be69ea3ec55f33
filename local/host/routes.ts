// ASP.NET-style route templates of HTTP triggers: literal segments (case-insensitive), `{name}`,
// optional `{name?}`, constraints `{id:int}` / `{id:guid}` / `{id:alpha}` (others accepted, not checked)
// and a catch-all `{*rest}` as the last segment. Default route: the function name.

interface Segment {
  literal?: string;
  param?: string;
  optional?: boolean;
  catchAll?: boolean;
  constraint?: string;
}

export interface RouteTemplate {
  readonly template: string;
  readonly segments: readonly Segment[];
  /** Sort key: routes with more literal segments win. */
  readonly literals: number;
}

export function parseRoute(template: string): RouteTemplate {
  const clean = template.replace(/^\/+|\/+$/g, "");
  const segments: Segment[] = [];
  for (const raw of clean === "" ? [] : clean.split("/")) {
    const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([^}?=]+))?(\?)?\}$/.exec(raw);
    if (m) {
      const seg: Segment = { param: m[2] ?? "", optional: m[4] === "?" || m[1] === "*", catchAll: m[1] === "*" };
      if (m[3] !== undefined) seg.constraint = m[3].toLowerCase();
      segments.push(seg);
    } else {
      segments.push({ literal: raw.toLowerCase() });
    }
  }
  return { template: clean, segments, literals: segments.filter((s) => s.literal !== undefined).length };
}

function satisfies(value: string, constraint: string | undefined): boolean {
  if (!constraint) return true;
  if (constraint === "int" || constraint === "long") return /^-?\d+$/.test(value);
  if (constraint === "guid") return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value);
  if (constraint === "alpha") return /^[a-z]+$/i.test(value);
  if (constraint === "bool") return /^(true|false)$/i.test(value);
  return true;
}

function decoded(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** Matches a path (below the route prefix, no leading slash) and returns the route parameters. A path that does not decode matches nothing (the listener answers it 400 before routing). */
export function matchRoute(route: RouteTemplate, path: string): Record<string, string> | undefined {
  const raw = path
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .filter((p, i, all) => !(p === "" && all.length === 1));
  const parts: string[] = [];
  for (const part of raw) {
    const value = decoded(part);
    if (value === undefined) return undefined;
    parts.push(value);
  }
  const params: Record<string, string> = {};
  let i = 0;
  for (const seg of route.segments) {
    if (seg.catchAll) {
      const rest = parts.slice(i).join("/");
      if (rest !== "") params[seg.param ?? ""] = rest;
      i = parts.length;
      break;
    }
    const part = parts[i];
    if (part === undefined || part === "") {
      if (seg.param !== undefined && seg.optional) continue;
      return undefined;
    }
    if (seg.literal !== undefined) {
      if (part.toLowerCase() !== seg.literal) return undefined;
    } else {
      if (!satisfies(part, seg.constraint)) return undefined;
      params[seg.param ?? ""] = part;
    }
    i++;
  }
  return i === parts.length ? params : undefined;
}
