// TLS for the loopback server: a throwaway CA generated at start signs a leaf for 127.0.0.1 and
// localhost. Clients trust the CA (this process: added to Node's default CA list; other processes:
// NODE_EXTRA_CA_CERTS=<caFile>); certificate verification always stays on.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { generate } from "selfsigned";

export interface TlsMaterial {
  caCertPem: string;
  caFile: string;
  key: string;
  cert: string;
  /** Removes the temp folder holding ca.pem (only when this module created it). */
  cleanup(): void;
}

export async function createTlsMaterial(dir?: string): Promise<TlsMaterial> {
  // Validity in real time: TLS checks the wall clock, not the emulator's clock.
  const notBeforeDate = new Date(Date.now() - 24 * 3600_000);
  const notAfterDate = new Date(Date.now() + 365 * 24 * 3600_000);
  // A unique CA name per emulator: OpenSSL finds the issuer by name, so two emulators' CAs with the
  // same name in one trust store would make one of them fail with a signature error.
  const caName = `gallery-share emulator CA ${randomBytes(6).toString("hex")}`;
  const ca = await generate([{ name: "commonName", value: caName }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  });
  const folder = dir ?? mkdtempSync(join(tmpdir(), "gallery-share-emulator-"));
  const caFile = join(folder, "ca.pem");
  writeFileSync(caFile, ca.cert);
  const cleanup = (): void => {
    if (!dir) rmSync(folder, { recursive: true, force: true });
  };
  return { caCertPem: ca.cert, caFile, key: leaf.private, cert: leaf.cert, cleanup };
}

/** Adds the CA to this process's default trust store (Node >= 22.19); returns the undo. */
export function trustInProcess(caCertPem: string): () => void {
  const current = tls.getCACertificates("default");
  tls.setDefaultCACertificates([...current, caCertPem]);
  return () => {
    const normalized = caCertPem.trim();
    tls.setDefaultCACertificates(tls.getCACertificates("default").filter((c) => c.trim() !== normalized));
  };
}
