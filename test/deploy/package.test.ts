// The deployment package, built the way deployment builds it: compile, leave out what .funcignore
// names, install production dependencies only (as Flex Consumption's remote build does), in an
// empty temporary directory. Then the entry loads there, and every SDK the app loads later resolves.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The few gitignore forms .funcignore uses: `dir/`, `name`, `*.ext`, `prefix*`. */
function ignoredBy(patterns: readonly string[], file: string): boolean {
  const base = path.posix.basename(file);
  return patterns.some((p) => {
    if (p.endsWith("/")) return file.startsWith(p) || file.includes(`/${p}`);
    if (p.includes("*")) {
      const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
      return re.test(base) || re.test(file.split("/")[0] ?? "");
    }
    return file === p || base === p;
  });
}

/** Bare package names a tree of sources imports or requires (type-only imports included). */
function importedPackages(dirs: readonly string[]): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "fixtures") visit(full);
      } else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) {
        const text = readFileSync(full, "utf8");
        for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["']([^"'./][^"']*)["']/g)) {
          const spec = m[1] ?? "";
          if (spec.startsWith("node:")) continue;
          names.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec));
        }
      }
    }
  };
  for (const dir of dirs) visit(path.join(root, dir));
  return names;
}

describe("production dependencies", () => {
  it("are exactly the packages src/ loads; what only local/, tests or tooling use is a devDependency", () => {
    const fromSrc = importedPackages(["src"]);
    fromSrc.delete("@azure/functions-core"); // provided by the Functions worker, not npm
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...fromSrc].filter((n) => n in pkg.dependencies || n in pkg.devDependencies).sort());
    const toolingOnly = [...importedPackages(["local", "test", "bench"])].filter((n) => !fromSrc.has(n) && (n in pkg.dependencies || n in pkg.devDependencies));
    expect(toolingOnly.length).toBeGreaterThan(0);
    expect(toolingOnly.filter((n) => n in pkg.dependencies)).toEqual([]);
    // npm's own view of the production tree, top level: nothing tooling-only is there.
    const listed = JSON.parse(execFileSync("npm", ["ls", "--omit=dev", "--depth=0", "--json"], { cwd: root, encoding: "utf8" })) as {
      dependencies?: Record<string, unknown>;
    };
    expect(Object.keys(listed.dependencies ?? {})).toEqual(expect.arrayContaining(Object.keys(pkg.dependencies)));
    expect(Object.keys(listed.dependencies ?? {}).filter((n) => toolingOnly.includes(n))).toEqual([]);
  });
});

describe("the deployment package", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "gallery-share-package-"));
    const patterns = readFileSync(path.join(root, ".funcignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    const tracked = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter((f) => f !== "" && existsSync(path.join(root, f)));
    for (const file of tracked.filter((f) => !ignoredBy(patterns, f))) cpSync(path.join(root, file), path.join(dir, file));
    // npm run build, into the package instead of the working tree's dist/.
    execFileSync(
      process.execPath,
      [path.join(root, "node_modules/typescript/bin/tsc"), "-p", path.join(root, "tsconfig.build.json"), "--outDir", path.join(dir, "dist")],
      { cwd: root, stdio: "pipe" },
    );
    // What the remote build installs: production dependencies from the lockfile, nothing else.
    execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: dir,
      stdio: "pipe",
      env: { ...process.env, NODE_ENV: "production" },
    });
  }, 240_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("holds the compiled app and its host.json, and none of the tooling, tests or infrastructure", () => {
    expect(existsSync(path.join(dir, pkg.main))).toBe(true);
    expect(existsSync(path.join(dir, "host.json"))).toBe(true);
    for (const left of ["test", "local", "bench", "infra", "specs", "docs", "dist/test", "dist/local"])
      expect(existsSync(path.join(dir, left)), left).toBe(false);
    const installed = readdirSync(path.join(dir, "node_modules"));
    // (rhea is not here: @azure/service-bus, a production dependency, runs on it.)
    for (const devOnly of ["vitest", "azurite", "oav", "tsx", "selfsigned", "tree-sitter-bicep", "typescript"]) {
      expect(
        installed.includes(devOnly) || (installed.includes(devOnly.split("/")[0] ?? "") && existsSync(path.join(dir, "node_modules", devOnly))),
        devOnly,
      ).toBe(false);
    }
  });

  it("loads its entry, and every production dependency resolves there", () => {
    const script = [
      `require(${JSON.stringify("./" + pkg.main)});`,
      `for (const name of ${JSON.stringify(Object.keys(pkg.dependencies))}) require(name);`,
      // The event handler is imported with the first event; it must resolve from the package too.
      `import("./dist/src/functions/imageVersionEvents.js").then((m) => { if (typeof m.createImageVersionEventHandler !== "function") throw new Error("no handler"); process.stdout.write("loaded"); });`,
    ].join("\n");
    const env = {
      PATH: process.env.PATH ?? "",
      GALLERY_IDS: "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1",
      AZURE_TENANT_ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      AzureWebJobsStorage__accountName: "stgallery",
    };
    const out = execFileSync(process.execPath, ["-e", script], { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out.trim().endsWith("loaded")).toBe(true);
  });

  it("refuses to start with a setting that could never work, naming it", () => {
    let message = "";
    try {
      execFileSync(process.execPath, ["-e", `require(${JSON.stringify("./" + pkg.main)})`], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", GALLERY_IDS: ",,", AZURE_TENANT_ID: "x" },
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (err) {
      message = String((err as { stderr?: string }).stderr);
    }
    expect(message).toMatch(/GALLERY_IDS must be gallery resource ids .*got only commas/);
    expect(message).toMatch(/AZURE_TENANT_ID must be a GUID/);
  });
});
