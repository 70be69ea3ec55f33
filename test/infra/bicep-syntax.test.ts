// Every Bicep file under infra/ must parse with tree-sitter-bicep without ERROR or MISSING nodes.
// The compiler checks the syntax itself (bicep.test.ts); this guards the grammar the wiring,
// settings and functions checks read infra/ with: a construct it does not know would become an
// ERROR node, and those checks would silently read less. A broken fixture proves the check fails
// and names the position.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkBicepSyntax, firstSyntaxError, listFiles, loadBicepFiles, parseBicepFile, parseBicepText, repoRoot } from "./support/bicep";

const root = repoRoot();

describe("Bicep syntax (tree-sitter-bicep)", () => {
  it("parses every .bicep file under infra/ without ERROR or MISSING nodes", async () => {
    const files = await loadBicepFiles(path.join(root, "infra"));
    expect(files.map((file) => file.rel)).toEqual(
      listFiles(path.join(root, "infra"), [".bicep"]).map((file) => path.relative(root, file).split(path.sep).join("/")),
    );
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(checkBicepSyntax(files)).toEqual([]);
  });

  it("fails on the broken fixture and reports file:line:col of the first error", async () => {
    const broken = await parseBicepFile(path.join(root, "test/infra/fixtures/broken.bicep"));
    expect(checkBicepSyntax([broken])).toEqual(['test/infra/fixtures/broken.bicep:11:33: syntax error (ERROR) at ")"']);
  });

  it("reports a token the grammar had to assume (MISSING) as well", async () => {
    const file = await parseBicepText("var names = [\n  'a'\n  'b'\n", path.join(root, "test/infra/fixtures/inline.bicep"));
    const error = firstSyntaxError(file.root);
    expect(error).toBeDefined();
    expect(checkBicepSyntax([file])).toHaveLength(1);
    expect(checkBicepSyntax([file])[0]).toMatch(/^test\/infra\/fixtures\/inline\.bicep:\d+:\d+: syntax error \((ERROR|MISSING \])\)/);
  });

  it("accepts the newer syntax the templates use (lambdas, safe access, multi-line conditions, nested resources)", async () => {
    const text = [
      "var ids = filter(map(split(galleryIds, ','), id => trim(id)), id => !empty(id))",
      "var firsts = filter(groups, (g, i) => indexOf(subs, g.subscriptionId) == i)",
      "var picked = useIt",
      "  ? {",
      "      a: mod!.outputs.x",
      "    }",
      "  : {}",
      "resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {",
      "  name: 'st'",
      "  resource blobs 'blobServices' existing = {",
      "    name: 'default'",
      "  }",
      "}",
      "output c string = st::blobs.id",
      "",
    ].join("\n");
    const file = await parseBicepText(text, path.join(root, "test/infra/fixtures/modern.bicep"));
    expect(checkBicepSyntax([file])).toEqual([]);
  });
});
