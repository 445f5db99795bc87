// Lint configuration (typescript-eslint): `npm test` runs it after the type check; `npx eslint` runs it alone.
import eslint from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

/** What Node scripts (the few .js files) may use without importing it. */
const NODE_GLOBALS = Object.fromEntries(
  ["process", "console", "require", "module", "exports", "__dirname", "__filename", "Buffer", "URL", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "fetch"].map(
    (name) => [name, "readonly"],
  ),
);

export default defineConfig(
  { ignores: ["node_modules/", ".toolchain/", "dist/", "coverage/", "bench/results/", ".run/"] },
  // Comments that disable require-import checks predate this config, which turns that rule off.
  { linterOptions: { reportUnusedDisableDirectives: "off" } },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // An unused parameter or variable named _x is intentional (a verb of an interface that ignores an argument).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // require() inside a function is deliberate here: the provider shell is serialised into Pulumi state with only
      // what it requires at call time, and AWS SDK clients are loaded lazily.
      "@typescript-eslint/no-require-imports": "off",
      // Tables and aligned output are asserted as they look, runs of spaces included.
      "no-regex-spaces": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { sourceType: "commonjs", globals: NODE_GLOBALS },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { sourceType: "module" },
  },
  {
    // An unconfirmed revocation deliberately supersedes whatever the replacement step threw (see its comment).
    files: ["src/rotation/engine.ts"],
    rules: { "no-unsafe-finally": "off" },
  },
  {
    files: ["test/**"],
    rules: {
      // Pulumi's mock arguments and raw HTTP bodies are untyped by nature.
      "@typescript-eslint/no-explicit-any": "off",
      // A test may rethrow without the cause on purpose: to prove a message does not carry a value.
      "preserve-caught-error": "off",
      "no-useless-assignment": "off",
    },
  },
);
