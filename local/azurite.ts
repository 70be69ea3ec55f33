// Starts Azurite's Table service (from the azurite devDependency) on a free loopback port, in memory,
// for the demo and the tests. The account and key are Azurite's published development defaults.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

export const AZURITE_ACCOUNT = "devstoreaccount1";
// Azurite's well-known development key (public, documented by Microsoft; not a secret).
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Azurite {
  readonly tableEndpoint: string;
  /** A connection string naming only the Table endpoint (all this app stores in Azurite). */
  readonly connectionString: string;
  stop(): Promise<void>;
}

/** A free loopback port (nothing listens on it once this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startAzurite(): Promise<Azurite> {
  const port = await freePort();
  const entry = path.join(path.dirname(require.resolve("azurite/package.json")), "dist/src/table/main.js");
  const child: ChildProcess = spawn(
    process.execPath,
    [entry, "--inMemoryPersistence", "--tableHost", "127.0.0.1", "--tablePort", String(port), "--skipApiVersionCheck", "--disableProductStyleUrl", "--silent"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/successfully (started|listening)/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code}:\n${output}`));
    });
  });
  const tableEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return {
    tableEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${tableEndpoint};`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
