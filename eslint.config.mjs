// ESLint flat config. Orchestrator files get extra rules that keep them deterministic:
// the Durable runtime replays them, so they must not read the clock, randomness, the
// environment or the network, nor import Node built-ins or Azure SDKs (type imports are fine).
// The layers of src/ are rules too (test/lint proves each one fires): domain imports nothing of
// the app; activities never import orchestrations or functions; orchestrations import only domain
// and activity types; nothing imports src/app.ts; and no import cycle anywhere in src/.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { builtinModules } from "node:module";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Nothing imports the composition root (src/app.ts): it is the entry point. */
const noAppImport = { group: ["../app", "./app"], message: "Layers: src/app.ts is the entry point; nothing imports it." };

/** Domain is pure: it imports nothing of the app (not even types), no SDK, no Node built-in. */
const domainRule = {
  patterns: [{ group: ["../*", "@azure/*", "durable-functions"], message: "Layers: domain is pure; it imports only domain." }],
  paths: nodeBuiltins.map((name) => ({ name, message: "Domain is pure: no Node built-ins." })),
};

/** Activities never import orchestrations or functions (names and message types live in domain). */
const activityRule = {
  patterns: [
    {
      group: ["../orchestrations", "../orchestrations/*", "../functions", "../functions/*"],
      message: "Layers: activities never import orchestrations or functions; shared names and types live in src/domain.",
    },
    noAppImport,
  ],
};

export const orchestratorRules = {
  "no-restricted-syntax": [
    "error",
    {
      selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
      message: "Orchestrators must not read the clock: use context.df.currentUtcDateTime.",
    },
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "Orchestrators must not read the clock: use context.df.currentUtcDateTime." },
    { selector: "MemberExpression[object.name='Math'][property.name='random']", message: "Orchestrators must be deterministic: no Math.random()." },
    {
      selector: "MemberExpression[object.name='process'][property.name='env']",
      message: "Orchestrators must not read process.env: pass settings in the orchestration input.",
    },
  ],
  "no-restricted-globals": [
    "error",
    { name: "setTimeout", message: "Orchestrators wait with context.df.createTimer." },
    { name: "setInterval", message: "Orchestrators wait with context.df.createTimer." },
    { name: "setImmediate", message: "Orchestrators wait with context.df.createTimer." },
    { name: "fetch", message: "Orchestrators do no I/O: call an activity." },
    { name: "process", message: "Orchestrators must not touch the process: pass settings in the orchestration input." },
  ],
  "@typescript-eslint/no-restricted-imports": [
    "error",
    {
      paths: nodeBuiltins.map((name) => ({ name, message: "Orchestrators must not import Node built-ins: do I/O in an activity." })),
      patterns: [
        { group: ["@azure/*"], allowTypeImports: true, message: "Orchestrators must not import Azure SDKs (type imports only): call an activity." },
        {
          group: ["../activities", "../activities/*"],
          allowTypeImports: true,
          message: "Orchestrators import only the types of activities: call them through ./activities.",
        },
        {
          group: ["../azure", "../azure/*", "../functions", "../functions/*", "../services", "../config", "../app"],
          message: "Layers: orchestrations import only domain and activity types.",
        },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".azurite/**", "test/fixtures/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        fetch: "readonly",
        __dirname: "readonly",
        require: "readonly",
        module: "writable",
        AbortController: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        structuredClone: "readonly",
        queueMicrotask: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  { files: ["src/orchestrations/**/*.ts"], rules: orchestratorRules },
  { files: ["src/domain/**/*.ts"], rules: { "@typescript-eslint/no-restricted-imports": ["error", domainRule] } },
  { files: ["src/activities/**/*.ts"], rules: { "@typescript-eslint/no-restricted-imports": ["error", activityRule] } },
  {
    files: ["src/functions/**/*.ts", "src/azure/**/*.ts", "src/services.ts", "src/config.ts"],
    rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns: [noAppImport] }] },
  },
  // Small pieces: no file in src/ over 400 lines, no function over 80.
  { files: ["src/**/*.ts"], rules: { "max-lines": ["error", { max: 400 }], "max-lines-per-function": ["error", { max: 80 }] } },
  {
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver()],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/extensions": [".ts", ".js"],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
);
