// Strict enums: a copy of a contract's swagger files, and every file they $ref, with each x-ms-enum
// made closed (`modelAsString: false`). See README.md ("Strict enums") for why.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Every file-relative `$ref` target in a JSON document, except inside x-ms-examples (oav erases those). */
function fileRefs(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) fileRefs(item, out);
  } else if (typeof node === "object" && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "x-ms-examples") continue;
      if (key === "$ref" && typeof value === "string") {
        const file = value.split("#")[0];
        if (file) out.add(file);
      } else {
        fileRefs(value, out);
      }
    }
  }
  return out;
}

/** The swaggers plus every file they $ref, transitively: paths relative to `root`. */
export function specClosure(root: string, swaggers: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = swaggers.map((s) => path.normalize(s));
  while (queue.length > 0) {
    const rel = queue.shift() ?? "";
    if (seen.has(rel)) continue;
    seen.add(rel);
    const doc: unknown = JSON.parse(fs.readFileSync(path.join(root, rel), "utf8"));
    for (const ref of fileRefs(doc)) queue.push(path.normalize(path.join(path.dirname(rel), ref)));
  }
  for (const rel of seen) {
    if (rel.startsWith("..")) throw new Error(`${rel} lies outside the spec root ${root}`);
  }
  return [...seen].sort();
}

/**
 * Closes every x-ms-enum in a swagger's text (`modelAsString` true → false) except those named in
 * `open`. Same-line edit, so oav's source positions still point at the official file's lines.
 */
export function closeEnums(text: string, open: readonly string[] = []): string {
  return text.replace(/"modelAsString"(\s*):(\s*)true/g, (match: string, a: string, b: string, offset: number) => {
    // The enum's name: the `"name"` between the nearest preceding "x-ms-enum" key and this flag.
    const start = text.lastIndexOf('"x-ms-enum"', offset);
    const name = start < 0 ? undefined : /"name"\s*:\s*"([^"]*)"/.exec(text.slice(start, offset))?.[1];
    return name !== undefined && open.includes(name) ? match : `"modelAsString"${a}:${b}false`;
  });
}

/**
 * A copy of the contract's files with every x-ms-enum closed (except `open` ones), in a directory under the OS temp dir
 * named by a hash of the inputs: built once, reused by later processes (test workers are killed
 * without an exit hook, so a per-process copy could not be cleaned up reliably). The layout below the
 * copy mirrors `root`, so relative $refs still resolve.
 */
export function strictEnumCopy(root: string, swaggers: readonly string[], open: readonly string[] = []): string {
  const files = new Map<string, string>();
  for (const rel of specClosure(root, swaggers)) files.set(rel, closeEnums(fs.readFileSync(path.join(root, rel), "utf8"), open));
  const hash = createHash("sha256").update("strict-enums-v2");
  for (const [rel, text] of files) hash.update(`\0${rel}\0${text}`);
  const dir = path.join(os.tmpdir(), `gallery-share-contract-${hash.digest("hex").slice(0, 16)}`);
  if (fs.existsSync(dir)) return dir;
  const staging = fs.mkdtempSync(`${dir}.tmp-`);
  for (const [rel, text] of files) {
    fs.mkdirSync(path.dirname(path.join(staging, rel)), { recursive: true });
    fs.writeFileSync(path.join(staging, rel), text);
  }
  try {
    fs.renameSync(staging, dir);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(dir)) throw e; // else another process won the race with the same content
  }
  return dir;
}
