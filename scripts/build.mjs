// Bundles every executable part of the project with esbuild: each entry becomes one CommonJS file in dist/.
// Tests, the demo and the Pulumi provider shell all run these bundles, so what is tested is what ships.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Node LTS the Lambda runs on (nodejs24.x) and the tooling runs on; see README "Node version". */
const target = "node24";

const entries = [
  // The reference gateway: server and admin CLI in one executable.
  { in: "reference-gateway/main.ts", out: "reference-gateway.js", external: [] },
  // The GatewayToken provider runtime, loaded by the thin provider shell that Pulumi serialises into state.
  // The AWS SDK stays external: it is resolved from the project's node_modules.
  { in: "src/provider/runtime.ts", out: "provider-runtime.js", external: ["@aws-sdk/*"] },
  // The rotator Lambda: one minified file with everything inlined, the AWS SDK included, so the deployed code
  // is exactly what was tested rather than whatever SDK version the runtime happens to ship.
  { in: "lambdas/rotator/handler.ts", out: "lambda/rotator/index.js", external: [], minify: true },
  // The local run (npm start): the whole product on one machine. It loads the Lambda bundle itself.
  { in: "local/main.ts", out: "local.js", external: ["@aws-sdk/*"] },
  // The operator CLI (package.json "bin"): status, rotate, revoke --emergency, verify.
  { in: "cli/main.ts", out: "cli.js", external: ["@aws-sdk/*"], banner: "#!/usr/bin/env node" },
];

const only = process.argv.slice(2);
mkdirSync(resolve(root, "dist"), { recursive: true });
await Promise.all(
  entries
    .filter((e) => only.length === 0 || only.includes(e.out))
    .map((e) =>
      build({
        entryPoints: [resolve(root, e.in)],
        outfile: resolve(root, "dist", e.out),
        bundle: true,
        platform: "node",
        format: "cjs",
        target,
        sourcemap: true,
        external: e.external,
        minify: e.minify ?? false,
        banner: e.banner ? { js: e.banner } : undefined,
        logLevel: "warning",
      }),
    ),
);
