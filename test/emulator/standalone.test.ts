// `npm run emulator` starts the emulator standalone with the demo world, prints its endpoints,
// and stops cleanly on SIGTERM.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { describe, expect, it } from "vitest";
import { DEMO } from "../../local/emulator/demo";

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("npm run emulator", () => {
  it("starts, prints the ARM endpoint, authority host and CA file, answers, and stops on SIGTERM", async () => {
    const child = spawn("npm", ["run", "--silent", "emulator"], {
      cwd: process.cwd(),
      env: { ...process.env, EMULATOR_PORT: "0", EMULATOR_RECORD: "" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line in time:\n${out}`)), 60_000);
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          if (out.includes("Ctrl+C stops it.")) {
            clearTimeout(timer);
            resolve(out);
          }
        });
        child.on("exit", () => reject(new Error(`exited early:\n${out}`)));
      });
      const arm = /ARM endpoint:\s+(https:\/\/127\.0\.0\.1:\d+)/.exec(ready)?.[1] ?? "";
      const authority = /Authority host:\s+(https:\/\/127\.0\.0\.1:\d+)/.exec(ready)?.[1] ?? "";
      const caFile = /CA file:\s+(\S+)/.exec(ready)?.[1] ?? "";
      expect(arm).not.toBe("");
      expect(authority).toBe(arm);
      const ca = readFileSync(caFile, "utf8");
      const config = await get(`${authority}/${DEMO.publisher.tenantId}/v2.0/.well-known/openid-configuration`, ca);
      expect(config.status).toBe(200);
      expect((JSON.parse(config.body) as { token_endpoint: string }).token_endpoint).toBe(`${authority}/${DEMO.publisher.tenantId}/oauth2/v2.0/token`);
    } finally {
      // The whole process group (npm, sh, tsx, node) was started by this test.
      if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
    }
    const code = await exited;
    expect(code === 0 || code === null).toBe(true);
  });
});
