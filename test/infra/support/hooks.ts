// Reads the `az deployment ... create` commands of the azd hook scripts (POSIX sh and PowerShell),
// so that the templates they deploy are checked like modules: every parameter they pass exists,
// every required parameter is passed, and values can be traced back to azd's outputs.
import path from "node:path";
import type { HookDeployment, HookValue } from "./model";

/** Joins continued lines (`\` at the end in sh, a backtick in PowerShell), keeping the first line number. */
function logicalLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let current: { line: number; text: string } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const continued = /(?:\\|`)\s*$/.test(raw);
    const body = raw.replace(/(?:\\|`)\s*$/, "");
    if (current) current.text += ` ${body.trim()}`;
    else current = { line: index + 1, text: body };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

/** Splits a command line into words, honouring single and double quotes (quotes are kept). */
function words(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      word += ch;
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      word += ch;
      quote = ch;
    } else if (/\s/.test(ch)) {
      if (word) out.push(word);
      word = "";
    } else {
      word += ch;
    }
  }
  if (word) out.push(word);
  return out;
}

function unquote(value: string): string {
  return value.replace(/^(["'])(.*)\1$/s, "$2");
}

/** `"$NAME"`, `"${NAME:-x}"`, `"$env:NAME"`, `$($env:NAME)` → env NAME; anything without `$` → literal. */
export function hookValue(raw: string): HookValue | undefined {
  const value = unquote(raw);
  const env = /^\$(?:env:|\{|\(\$env:)?([A-Za-z_][A-Za-z0-9_]*)/.exec(value);
  if (env?.[1]) return { kind: "env", name: env[1] };
  if (value.includes("$")) return undefined;
  return { kind: "literal", value };
}

/**
 * The deployment commands of one hook script. Parameters written to a parameters file by the
 * script (`"name": { "value": ... }` in its text) are reported in paramsFromFile for the commands
 * that pass `@file`.
 */
export function parseHookDeployments(scriptRel: string, text: string, root: string): HookDeployment[] {
  const fromFile = [...text.matchAll(/\\?"([A-Za-z][A-Za-z0-9]*)\\?"\s*:\s*\{\s*\\?"value\\?"/g)].map((match) => match[1] ?? "").filter((name) => name !== "");
  const deployments: HookDeployment[] = [];
  for (const { line, text: command } of logicalLines(text)) {
    if (!/\baz\s+deployment\s+(?:sub|group|mg|tenant)\s+create\b/.test(command)) continue;
    const tokens = words(command);
    const templateAt = tokens.indexOf("--template-file");
    const template = templateAt >= 0 ? tokens[templateAt + 1] : undefined;
    if (!template) continue;
    const params = new Map<string, HookValue>();
    let usesFile = false;
    let inParameters = false;
    for (const token of tokens) {
      if (token === "--parameters" || token === "-p") {
        inParameters = true;
        continue;
      }
      if (token.startsWith("-")) {
        inParameters = false;
        continue;
      }
      if (!inParameters) continue;
      // sh writes name="$VALUE"; PowerShell "name=$env:VALUE" (the whole word quoted).
      const word = /^["'][A-Za-z][A-Za-z0-9]*=/.test(token) ? unquote(token) : token;
      if (word.startsWith("@") || word.startsWith('"@') || word.startsWith("'@")) {
        usesFile = true;
        continue;
      }
      const eq = word.indexOf("=");
      if (eq <= 0) continue;
      const value = hookValue(word.slice(eq + 1));
      if (value) params.set(word.slice(0, eq), value);
    }
    deployments.push({
      script: scriptRel,
      line,
      templatePath: path.resolve(root, unquote(template)),
      params,
      paramsFromFile: usesFile ? fromFile : [],
    });
  }
  return deployments;
}
