// The README's settings table must match src/settings.ts: every setting, with its default.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS, type SettingSpec } from "../../src/settings";

const readme = readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");

describe("README settings table", () => {
  it.each(SETTINGS.map((s): [string, SettingSpec] => [s.name, s]))("documents %s with its default", (name, spec) => {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${name}\` |`));
    expect(row, `README has no settings row for ${name}`).toBeDefined();
    const cell = row!.split("|")[2]!.trim();
    const expected = spec.default === undefined ? "(required)" : spec.default === "" ? "empty" : `\`${spec.default}\``;
    // AzureWebJobsStorage has no default but may be given in its identity-based __accountName form instead.
    if (name === "AzureWebJobsStorage") expect(cell).toBe("(required)");
    else expect(cell).toBe(expected);
  });
});
