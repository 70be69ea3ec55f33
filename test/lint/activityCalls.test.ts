// Every activity call in an orchestration (`activities.x(context, ...)`) resolves, for the compiler
// and for an editor's go-to-definition, to the implementation in a feature module of src/activities,
// not to a descriptor or a name string. Uses TypeScript's language service, as an editor does.
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");

function languageService(): ts.LanguageService {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error("tsconfig.json could not be read");
  return ts.createLanguageService({
    // The orchestrations alone: the program takes what they import, and nothing of the tests or local/.
    getScriptFileNames: () => config.fileNames.filter((file) => file.includes("/src/orchestrations/")),
    getScriptVersion: () => "1",
    getScriptSnapshot: (file) => (ts.sys.fileExists(file) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(file) ?? "") : undefined),
    getCurrentDirectory: () => root,
    getCompilationSettings: () => config.options,
    getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
  });
}

describe("activity calls in orchestrations", () => {
  it("go to the activity's implementation in its feature module", () => {
    const service = languageService();
    const dir = path.join(root, "src/orchestrations");
    const landed: string[] = [];
    for (const name of ts.sys.readDirectory(dir, [".ts"]).filter((file) => path.basename(file) !== "activities.ts")) {
      const text = ts.sys.readFile(name) ?? "";
      for (const match of text.matchAll(/\bactivities\.(\w+)\(context/g)) {
        const at = (match.index ?? 0) + "activities.".length;
        const definitions = service.getDefinitionAtPosition(name, at) ?? [];
        const where = definitions.map((d) => {
          const source = ts.sys.readFile(d.fileName) ?? "";
          return `${path.relative(root, d.fileName)} ${source.slice(d.textSpan.start, d.textSpan.start + d.textSpan.length)}`;
        });
        expect(where, `${path.basename(name)}: activities.${match[1]}`).toEqual([expect.stringMatching(new RegExp(`^src/activities/\\w+\\.ts ${match[1]}$`))]);
        landed.push(match[1] ?? "");
      }
    }
    // Every orchestration calls some activity; the check above ran on all of those calls.
    expect(new Set(landed).size).toBeGreaterThan(20);
  }, 60_000);
});
