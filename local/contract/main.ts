// CLI: tsx local/contract/main.ts [--lenient-enums] <recording.jsonl> [more.jsonl ...]
// Prints a verdict per covered exchange, the count of valid exchanges per spec and what was not
// validated; exits 1 on any failure (or a recording without covered exchanges), 2 on a usage error.
import { perSpecSummary, uncoveredSummary, validateRecording, type ExchangeVerdict } from "./validateTraffic";

function pathOf(url: string): string {
  try {
    const u = new URL(url, "https://management.azure.com");
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

function line(v: ExchangeVerdict): string {
  const mark = v.isSuccessful === true ? "PASS" : v.isSuccessful === false ? "FAIL" : "FAIL (not validated)";
  const op = v.operationId ?? "no matching operation";
  const spec = v.contract ? ` {${v.contract}}` : "";
  const mapped = v.mappedApiVersion ? ` [api-version ${v.mappedApiVersion} validated as the contract's]` : "";
  const head = `${mark} ${v.exchange.method.toUpperCase()} ${pathOf(v.exchange.url)} -> ${v.exchange.status} ${op}${spec}${mapped}`;
  return [head, ...v.errors.map((e) => `    ${e}`), ...(v.tolerated ?? []).map((t) => `    tolerated (local/contract/README.md): ${t}`)].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith("--"));
  const flags = argv.filter((a) => a.startsWith("--"));
  const unknown = flags.filter((f) => f !== "--lenient-enums");
  if (files.length === 0 || unknown.length > 0) {
    console.error("usage: tsx local/contract/main.ts [--lenient-enums] <recording.jsonl> [more.jsonl ...]");
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    const report = await validateRecording(file, { strictEnums: !flags.includes("--lenient-enums") });
    const { verdicts } = report;
    console.log(`# ${file}: ${verdicts.length} exchanges covered by a contract`);
    for (const v of verdicts) console.log(line(v));
    const bad = verdicts.filter((v) => v.isSuccessful !== true).length;
    if (verdicts.length === 0) {
      console.log(`FAIL ${file}: no exchanges a contract covers`);
      failed++;
    }
    failed += bad;
    console.log(`# ${file}: ${verdicts.length - bad} passed, ${bad} failed`);
    console.log(perSpecSummary(report));
    console.log(uncoveredSummary(report));
  }
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 2;
    },
  );
}
