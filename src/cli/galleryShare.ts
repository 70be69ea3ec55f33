#!/usr/bin/env node
// gallery-share: the operator command line, in the style of `az`. It talks to the app's operator API
// (/api/ops, behind App Service Authentication) as the signed-in user: in Azure with a Microsoft
// Entra token from @azure/identity for the sign-in app's audience; locally (npm run dev) through the
// local host's development sign-in. Results go to stdout (--output json, the default, or table),
// progress and errors to stderr; exit code 0 only on success.
import { readFileSync } from "node:fs";
import { DefaultAzureCredential } from "@azure/identity";

const HELP = `gallery-share: operate gallery-share from the command line

Usage: gallery-share <group> <command> [arguments] [--output json|table]

  tenant list                              every consumer tenant: mode, state, ring, VMs
  tenant show <tenantId>                   one tenant
  tenant ring <tenantId> <ring>            move a tenant to another rollout ring (Operator)
  tenant onboard --file <request.json>     onboard a tenant: an onboarding/v1 request (Operator)
  tenant offboard <tenantId>               offboard a tenant from all its galleries (Operator)
  tenant consent-link <tenantId>           a new admin-consent link for an rbac tenant (Operator)
  version list                             image versions: publish state, rollout, promotion
  version show <versionId>                 one version
  version retry <versionId>                run a failed publish again (Operator)
  version revoke <versionId> --reason <r>  revoke a version (Operator)
  drift show                               the last reconciliation's drift
  reconcile                                reconcile now (Operator)

Connection (flags, or the environment variables in brackets):
  --url <origin>          the app, e.g. https://func-api-xxxx.azurewebsites.net   [GALLERY_SHARE_URL]
  --scope <scope>         Entra scope of the sign-in app, e.g. api://<app id>/.default [GALLERY_SHARE_SCOPE]
  --dev-user <name>       local only: sign in to the local host as this user      [GALLERY_SHARE_DEV_USER]
  --dev-roles <roles>     local only: comma-separated app roles                    [GALLERY_SHARE_DEV_ROLES]

Examples:
  gallery-share tenant list --output table
  gallery-share version retry 8169c8c1f33ddfa3b1c9b27e0cd33a40
  gallery-share version revoke 8169c8c1f33ddfa3b1c9b27e0cd33a40 --reason "boot loop after the kernel update"
  GALLERY_SHARE_URL=http://127.0.0.1:7071 GALLERY_SHARE_DEV_USER=ops@contoso.example \\
    GALLERY_SHARE_DEV_ROLES=GalleryShare.Operator gallery-share reconcile
`;

interface Options {
  readonly positional: string[];
  readonly flags: Map<string, string>;
}

function parse(argv: readonly string[]): Options {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") flags.set("help", "true");
    else if (arg.startsWith("--")) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) throw new UsageError(`${arg} needs a value`);
      flags.set(arg.slice(2), value);
      i++;
    } else positional.push(arg);
  }
  return { positional, flags };
}

class UsageError extends Error {}

/** How to call the app: its origin and the headers that sign the caller in. */
async function connect(options: Options): Promise<{ url: string; headers: Record<string, string> }> {
  const setting = (flag: string, env: string): string | undefined => options.flags.get(flag) ?? process.env[env];
  const url = setting("url", "GALLERY_SHARE_URL")?.replace(/\/+$/, "");
  if (!url) throw new UsageError("--url (or GALLERY_SHARE_URL) is required: the app's origin");
  const devUser = setting("dev-user", "GALLERY_SHARE_DEV_USER");
  if (devUser) {
    const roles = (setting("dev-roles", "GALLERY_SHARE_DEV_ROLES") ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r !== "");
    const r = await fetch(`${url}/.auth/login/dev`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: devUser, roles }),
    });
    const cookie = r.headers.get("set-cookie")?.split(";")[0];
    if (r.status !== 302 || !cookie) throw new Error(`the development sign-in at ${url} answered ${r.status}: is this the local host (npm run dev)?`);
    process.stderr.write(`signed in to ${url} as ${devUser} (${roles.join(", ") || "no roles"}) with the development sign-in\n`);
    return { url, headers: { cookie } };
  }
  const scope = setting("scope", "GALLERY_SHARE_SCOPE");
  if (!scope) throw new UsageError("--scope (or GALLERY_SHARE_SCOPE) is required: api://<sign-in app id>/.default (azd env get-value OPERATOR_SIGN_IN_SCOPE)");
  const token = await new DefaultAzureCredential().getToken(scope);
  if (!token) throw new Error(`no token for ${scope}: sign in with az login first`);
  return { url, headers: { authorization: `Bearer ${token.token}` } };
}

async function call(conn: { url: string; headers: Record<string, string> }, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${conn.url}${path}`, {
    method,
    redirect: "manual",
    headers: { ...conn.headers, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = text;
  }
  if (!r.ok) {
    const message = typeof parsed === "object" && parsed !== null && "error" in parsed ? JSON.stringify(parsed.error) : String(parsed).slice(0, 500);
    throw new Error(`${method} ${path} answered ${r.status}: ${message}`);
  }
  return parsed;
}

type Row = Record<string, string | number | boolean | undefined>;

/** A table like az's: a header, a dashed rule, columns padded to their widest value. */
function table(rows: readonly Row[]): string {
  if (rows.length === 0) return "";
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Row[string]): string => (v === undefined ? "" : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

interface OverviewBody {
  tenants: Array<{
    tenantId: string;
    displayName: string;
    mode: string;
    state: string;
    ring: number;
    workloads: Array<{ kind: string; name: string; version: string }>;
  }>;
  versions: Array<{
    versionId: string;
    image: string;
    version: string;
    runtimeStatus: string;
    step?: string;
    rollout?: { state: string; promotion: { state: string } };
  }>;
  drift: { checkedAt?: string; galleries: Array<{ galleryId: string; missing: number; unexpected: number }> };
}

async function run(options: Options): Promise<{ value: unknown; rows?: Row[] }> {
  const [group, command, ...args] = options.positional;
  const conn = await connect(options);
  const overview = async (): Promise<OverviewBody> => (await call(conn, "GET", "/api/ops/overview")) as OverviewBody;
  const need = (name: string, value: string | undefined): string => {
    if (!value) throw new UsageError(`${group} ${command} needs <${name}>`);
    return value;
  };
  switch (`${group} ${command ?? ""}`.trim()) {
    case "tenant list": {
      const { tenants } = await overview();
      return {
        value: tenants,
        rows: tenants.map((t) => ({
          Name: t.displayName,
          TenantId: t.tenantId,
          Mode: t.mode,
          State: t.state,
          Ring: t.ring,
          Workloads: t.workloads.map((w) => `${w.kind} ${w.name} ${w.version}`).join("; "),
        })),
      };
    }
    case "tenant show": {
      const id = need("tenantId", args[0]).toLowerCase();
      const tenant = (await overview()).tenants.find((t) => t.tenantId === id);
      if (!tenant) throw new Error(`no tenant ${id}`);
      return { value: tenant };
    }
    case "tenant ring":
      return { value: await call(conn, "PUT", `/api/ops/tenants/${need("tenantId", args[0])}/ring`, { ring: Number(need("ring", args[1])) }) };
    case "tenant onboard": {
      const file = options.flags.get("file");
      if (!file) throw new UsageError("tenant onboard needs --file <request.json> (an onboarding/v1 request)");
      return { value: await call(conn, "POST", "/api/ops/tenants/onboard", JSON.parse(readFileSync(file, "utf8")) as unknown) };
    }
    case "tenant offboard":
      return { value: await call(conn, "POST", `/api/ops/tenants/${need("tenantId", args[0])}/offboard`) };
    case "tenant consent-link":
      return { value: await call(conn, "POST", `/api/ops/tenants/${need("tenantId", args[0])}/consent-link`) };
    case "version list": {
      const { versions } = await overview();
      return {
        value: versions,
        rows: versions.map((v) => ({
          Image: v.image,
          Version: v.version,
          VersionId: v.versionId,
          Status: v.runtimeStatus,
          Step: v.step,
          Rollout: v.rollout?.state,
          Latest: v.rollout?.promotion.state,
        })),
      };
    }
    case "version show": {
      const id = need("versionId", args[0]);
      return { value: await call(conn, "GET", `/api/versions/${id}`).catch(async () => (await overview()).versions.find((v) => v.versionId === id)) };
    }
    case "version retry":
      return { value: await call(conn, "POST", `/api/ops/versions/${need("versionId", args[0])}/retry`) };
    case "version revoke": {
      const reason = options.flags.get("reason");
      if (!reason) throw new UsageError("version revoke needs --reason <why>");
      return { value: await call(conn, "POST", `/api/ops/versions/${need("versionId", args[0])}/revoke`, { reason }) };
    }
    case "drift show": {
      const { drift } = await overview();
      return { value: drift, rows: drift.galleries.map((g) => ({ Gallery: g.galleryId.split("/").pop(), Missing: g.missing, Unexpected: g.unexpected })) };
    }
    case "reconcile":
      return { value: await call(conn, "POST", "/api/ops/reconcile") };
    default:
      throw new UsageError(`unknown command: ${options.positional.join(" ") || "(none)"}`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parse(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    return 2;
  }
  if (options.flags.has("help") || options.positional.length === 0) {
    process.stdout.write(HELP);
    return 0;
  }
  const output = options.flags.get("output") ?? "json";
  if (output !== "json" && output !== "table") {
    process.stderr.write(`--output must be json or table; got ${output}\n`);
    return 2;
  }
  try {
    const result = await run(options);
    process.stdout.write(`${output === "table" && result.rows ? table(result.rows) : JSON.stringify(result.value, null, 2)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof UsageError ? "usage: " : "error: "}${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
