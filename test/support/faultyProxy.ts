// A loopback HTTP proxy that answers chosen requests with an error before passing the rest on:
// how a test makes a real service (Azurite) fail one call, the way a storage outage would.
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ProxyFault {
  readonly method: string;
  readonly path: RegExp;
  readonly status: number;
  /** How many matching requests fail; later ones pass. */
  count: number;
}

export interface FaultyProxy {
  readonly url: string;
  readonly failed: number;
  close(): Promise<void>;
}

export async function startFaultyProxy(target: string, faults: ProxyFault[]): Promise<FaultyProxy> {
  const upstream = new URL(target);
  let failed = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const fault = faults.find((f) => f.count > 0 && f.method === req.method && f.path.test(req.url ?? ""));
    if (fault) {
      fault.count -= 1;
      failed += 1;
      req.resume();
      res.writeHead(fault.status, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ odata: { error: { code: "ServerBusy", message: { lang: "en-US", value: "The server is currently unable to receive requests." } } } }),
      );
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get failed() {
      return failed;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
