// HTTP triggers through the local host: routes, methods, function keys, the library's HttpRequest /
// HttpResponse conversion.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixtureHost, type FixtureHost } from "./support";

let fx: FixtureHost;
beforeAll(async () => {
  fx = await startFixtureHost({ functionKey: "test-function-key", masterKey: "test-master-key" });
});
afterAll(async () => {
  await fx.host.close();
});

function url(path: string): string {
  return `${fx.host.baseUrl}${path}`;
}

describe("HTTP triggers", () => {
  it("binds 127.0.0.1 and lists the registered functions with their routes", () => {
    expect(fx.host.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const fns = fx.host.registeredFunctions();
    expect(fns).toContainEqual({ name: "hello", trigger: "httpTrigger", route: "/api/hello/{name?}" });
    expect(fns).toContainEqual({ name: "gridEvents", trigger: "eventGridTrigger" });
    expect(fns).toContainEqual({ name: "jobs", trigger: "serviceBusTrigger" });
    expect(fns).toContainEqual({ name: "tick", trigger: "timerTrigger" });
    expect(fns).toContainEqual({ name: "greet", trigger: "activityTrigger" });
    expect(fns).toContainEqual({ name: "parent", trigger: "orchestrationTrigger" });
  });

  it("serves a route with an optional parameter", async () => {
    const a = await fetch(url("/api/hello"));
    expect(a.status).toBe(200);
    expect(await a.text()).toBe("Hello, world");
    const b = await fetch(url("/api/Hello/Ada"));
    expect(await b.text()).toBe("Hello, Ada");
  });

  it("answers 404 for a method the function does not accept and for unknown routes", async () => {
    expect((await fetch(url("/api/hello"), { method: "POST" })).status).toBe(404);
    expect((await fetch(url("/api/nothing-here"))).status).toBe(404);
    expect((await fetch(url("/api/secure/not-a-number?code=test-function-key"))).status).toBe(404);
  });

  it("checks function keys: code query or x-functions-key header, master key accepted, 401 otherwise", async () => {
    expect((await fetch(url("/api/secure/42"))).status).toBe(401);
    expect((await fetch(url("/api/secure/42?code=wrong"))).status).toBe(401);
    const ok = await fetch(url("/api/secure/42?code=test-function-key&q=x"));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: 42, query: "x" });
    expect((await fetch(url("/api/secure/42"), { headers: { "x-functions-key": "test-function-key" } })).status).toBe(200);
    expect((await fetch(url("/api/secure/42?code=test-master-key"))).status).toBe(200);
  });

  it("passes a repeated query parameter as the Functions host does: one value, joined with commas; the URL as sent", async () => {
    const response = await fetch(url("/api/secure/7?code=test-function-key&q=a&q=b&q="));
    const body = (await response.json()) as { query: string; all: string[]; url: string };
    expect(body.query).toBe("a,b,");
    expect(body.all).toEqual(["a,b,"]);
    expect(new URL(body.url).searchParams.getAll("q")).toEqual(["a", "b", ""]);
  });

  it("admin functions need the master key", async () => {
    expect((await fetch(url("/api/admin-only?code=test-function-key"))).status).toBe(401);
    const ok = await fetch(url("/api/admin-only"), { headers: { "x-functions-key": "test-master-key" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("admin");
  });

  it("passes the request through the library and returns the handler's HttpResponse (status, headers, cookies, JSON body)", async () => {
    const res = await fetch(url("/api/echo"), {
      method: "PUT",
      headers: { "content-type": "application/json", "x-test": "t" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-echo")).toBe("yes");
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(res.headers.get("set-cookie")).toBe("session=abc; HttpOnly");
    expect(await res.json()).toEqual({ method: "PUT", body: { a: 1 }, header: "t" });
    expect(fx.logs.some((l) => l.includes("[echo]") && l.includes("echo PUT"))).toBe(true);
  });

  it("answers 500 when the handler throws", async () => {
    const res = await fetch(url("/api/throws"));
    expect(res.status).toBe(500);
    expect(fx.logs.some((l) => l.includes("handler exploded"))).toBe(true);
  });

  it("serves the admin API: host status and invoking a non-HTTP function", async () => {
    expect((await fetch(url("/admin/host/status"))).status).toBe(401);
    const status = await fetch(url("/admin/host/status?code=test-master-key"));
    expect(await status.json()).toMatchObject({ state: "Running" });
    const run = await fetch(url("/admin/functions/tick?code=test-master-key"), { method: "POST", body: "{}" });
    expect(run.status).toBe(202);
    await fx.host.durable.runUntilIdle();
    expect(fx.logs.some((l) => l.includes("[tick]") && l.includes("tick"))).toBe(true);
  });
});

/** A JSON array nested `depth` deep: [[[...]]]. */
const nested = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);

/** Sends raw request bytes (what fetch will not send) and returns the status line; fails if no answer comes. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(request.split("\r\n")[0])}`));
    }, 5000);
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(data.split("\r\n")[0] ?? "");
    });
    socket.write(request);
  });
}

describe("request bodies and URLs", () => {
  it("hands a JSON body nested 10,000 deep to the function unparsed, as Azure does for the Node worker", async () => {
    const res = await fetch(url("/api/body-depth"), { method: "POST", headers: { "content-type": "application/json" }, body: nested(10_000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ depth: 10_000 });
  });

  it("a handler answering with that body fails in @azure/functions' own JSON.stringify: a bare 500, as in Azure", async () => {
    const res = await fetch(url("/api/echo"), { method: "POST", headers: { "content-type": "application/json" }, body: nested(10_000) });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("");
    expect(fx.logs.some((l) => l.startsWith("[echo] failed: RangeError"))).toBe(true);
  });

  it("answers 400 to a path whose percent-escapes do not decode, before routing and keys, with or without a key", async () => {
    const paths = [
      "/api/status/%ZZ",
      "/api/status/%ZZ?code=test-function-key",
      "/api/no-such-route/%ZZ",
      "/api/status/%FF",
      "/api/secure/%E0%A4%A",
      "/runtime/webhooks/durabletask/instances/%ZZ?code=test-master-key",
      "/runtime/webhooks/durabletask/instances/%ZZ",
      "/admin/functions/%ZZ?code=test-master-key",
    ];
    for (const path of paths) {
      const res = await fetch(url(path));
      expect(res.status, path).toBe(400);
      expect(await res.text(), path).toBe("Bad Request");
    }
    expect(fx.logs.some((l) => l.includes("failed in the host"))).toBe(false);
    // Valid escapes still decode into route parameters.
    expect(await (await fetch(url("/api/hello/Ada%20L%C3%B6w"))).text()).toBe("Hello, Ada Löw");
  });

  it("answers 400 to a Host header that names no host, and keeps `//x/...` a path", async () => {
    const port = Number(new URL(fx.host.baseUrl).port);
    expect(await rawRequest(port, "GET /api/hello HTTP/1.1\r\nHost: not a host\r\nConnection: close\r\n\r\n")).toBe("HTTP/1.1 400 Bad Request");
    expect(await rawRequest(port, "GET /api/hello HTTP/1.1\r\nHost: 127.0.0.1/api\r\nConnection: close\r\n\r\n")).toBe("HTTP/1.1 400 Bad Request");
    expect(await rawRequest(port, `GET //elsewhere/api/hello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).toBe("HTTP/1.1 404 Not Found");
    expect(await rawRequest(port, `GET /api/hello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).toBe("HTTP/1.1 200 OK");
  });
});
