// Starts Azurite (from the azurite devDependency) on free loopback ports, in memory, for the demo and
// the tests: the Table service alone (all the app stores), or blobs, queues and tables for the real
// Durable engine (DTFx's Azure Storage provider uses all three). The account and key are Azurite's
// published development defaults.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

export const AZURITE_ACCOUNT = "devstoreaccount1";
// Azurite's well-known development key (public, documented by Microsoft; not a secret).
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Azurite {
  readonly tableEndpoint: string;
  /** A connection string naming the endpoints started: Table only, or Blob, Queue and Table. */
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

export interface AzuriteOptions {
  /** "table" (default): the Table service only; "all": blobs, queues and tables. */
  services?: "table" | "all";
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const all = options.services === "all";
  const port = await freePort();
  const blobPort = all ? await freePort() : 0;
  const queuePort = all ? await freePort() : 0;
  const root = path.dirname(require.resolve("azurite/package.json"));
  const entry = path.join(root, all ? "dist/src/azurite.js" : "dist/src/table/main.js");
  const ports = all ? ["--blobHost", "127.0.0.1", "--blobPort", String(blobPort), "--queueHost", "127.0.0.1", "--queuePort", String(queuePort)] : [];
  // --skipApiVersionCheck: newer storage SDKs (the .NET ones DTFx uses among them) ask for API versions Azurite does not list.
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      "--inMemoryPersistence",
      "--tableHost",
      "127.0.0.1",
      "--tablePort",
      String(port),
      ...ports,
      "--skipApiVersionCheck",
      "--disableProductStyleUrl",
      "--silent",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      // One line per service started.
      if ((output.match(/successfully (started|listening)/gi)?.length ?? 0) >= (all ? 3 : 1)) {
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
  const others = all ? `BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT};QueueEndpoint=http://127.0.0.1:${queuePort}/${AZURITE_ACCOUNT};` : "";
  return {
    tableEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};${others}TableEndpoint=${tableEndpoint};`,
    // In memory, so nothing is lost by a kill: Azurite waits for open keep-alive connections (the
    // .NET storage clients leave some) before it exits on SIGTERM, so it gets 3 s.
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
