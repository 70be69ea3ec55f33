// ESLint flat config. Orchestrator files get extra rules that keep them deterministic:
// the Durable runtime replays them, so they must not read the clock, randomness, the
// environment or the network, nor import Node built-ins or Azure SDKs (type imports are fine).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { builtinModules } from "node:module";

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export const orchestratorRules = {
  "no-restricted-syntax": [
    "error",
    { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: "Orchestrators must not read the clock: use context.df.currentUtcDateTime." },
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "Orchestrators must not read the clock: use context.df.currentUtcDateTime." },
    { selector: "MemberExpression[object.name='Math'][property.name='random']", message: "Orchestrators must be deterministic: no Math.random()." },
    { selector: "MemberExpression[object.name='process'][property.name='env']", message: "Orchestrators must not read process.env: pass settings in the orchestration input." },
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
        { group: ["**/activities/*", "!**/activities/descriptors"], allowTypeImports: true, message: "Orchestrators import only activity descriptors and types." },
        { group: ["**/azure/*"], allowTypeImports: true, message: "Orchestrators must not import SDK adapters." },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".azurite/**", "test/fixtures/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", setImmediate: "readonly", fetch: "readonly", __dirname: "readonly", require: "readonly", module: "writable", AbortController: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", structuredClone: "readonly", queueMicrotask: "readonly" } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  { files: ["src/orchestrations/**/*.ts"], rules: orchestratorRules },
  { files: ["src/domain/**/*.ts"], rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns: [{ group: ["@azure/*", "../azure/*", "../activities/*", "../functions/*", "../orchestrations/*"], allowTypeImports: true, message: "Domain is pure: it imports nobody." }], paths: nodeBuiltins.map((name) => ({ name, message: "Domain is pure: no Node built-ins." })) }] } },
);
