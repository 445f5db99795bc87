/**
 * The package as a team gets it: a copy of this checkout runs `npm pack` (whose prepack is `npm run build`), the
 * tarball is installed into a scratch Pulumi program that declares a token, and `pulumi preview` runs on the real
 * engine with a local file backend. The copy keeps the build away from the dist/ the other suites run.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

jest.setTimeout(900_000);

const ROOT = resolve(__dirname, "../..");
/** What only this checkout has: installed toolchains, build output, run data. */
const NOT_COPIED = new Set(["node_modules", ".toolchain", "dist", ".run", ".git", "coverage", "bench/results"]);
const FAKE_ADMIN_TOKEN = `openclaw_gw_dev_${"a".repeat(55)}`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env, stdin = ""): Promise<Run> {
  return new Promise((resolvePromise) => {
    const child = execFile(command, args, { cwd, env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

function ok(result: Run, what: string): Run {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

const SCRATCH_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { GatewayToken } = require("openclaw-token-ops");

const config = new pulumi.Config();
const args = {
  name: "ci-runner",
  scopes: ["run:jobs"],
  ttl: "30d",
  environment: "dev",
  gatewayUrl: config.require("gatewayUrl"),
  adminToken: config.requireSecret("adminToken"),
};
// A typo a team could make, switched on by config: the resource's own check must refuse it at preview.
if (config.getBoolean("typo")) args.rotationFracton = 0.5;
const token = new GatewayToken("ci-runner", args);
exports.secretName = token.secretName;
`;

/** Types as a TypeScript program sees them through the exports map. */
const SCRATCH_TYPES = `
import { GatewayToken, type GatewayTokenArgs, Scope } from "openclaw-token-ops";
import { GatewayTokenClient, type CurrentToken } from "openclaw-token-ops/client";

const args: GatewayTokenArgs = { name: "ci-runner", scopes: [Scope.RunJobs], ttl: "30d", environment: "dev", gatewayUrl: "https://gw.example", adminToken: "x" };
// @ts-expect-error a misspelt input is a type error as well as a preview error
const misspelt: GatewayTokenArgs = { ...args, rotationFracton: 0.5 };
const client = new GatewayTokenClient({ secretName: "openclaw/dev/ci-runner" });
const read: () => Promise<CurrentToken> = () => client.current();
export { GatewayToken, misspelt, read };
`;

describe("the packed package in a scratch Pulumi program", () => {
  const work = mkdtempSync(join(tmpdir(), "openclaw-pack-"));
  const copy = join(work, "package");
  const scratch = join(work, "scratch");
  let tarball: string;
  let packedFiles: string[];

  beforeAll(async () => {
    cpSync(ROOT, copy, {
      recursive: true,
      filter: (source) => !NOT_COPIED.has(relative(ROOT, source)),
    });
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    const packed = ok(await run("npm", ["pack", "--json", "--pack-destination", work], copy), "npm pack");
    const [manifest] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, manifest.filename);
    packedFiles = manifest.files.map((f) => f.path);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("packs the library with its types, the executables it needs, LICENSE and CHANGELOG, and nothing else", () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        "package.json",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "dist/lib/src/index.js",
        "dist/lib/src/index.d.ts",
        "dist/lib/src/client/index.d.ts",
        "dist/lib/infra/aws/index.d.ts",
        "dist/provider-runtime.js",
        "dist/cli.js",
        "dist/lambda/rotator/index.js",
      ]),
    );
    expect(packedFiles.filter((f) => /^(src|test|infra|cli|local|bench|scripts)\//.test(f) || f === "dist/local.js" || f.startsWith("dist/reference-gateway"))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(copy, "package.json"), "utf8"));
    expect(readFileSync(join(copy, "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(pkg.license).toBe("Apache-2.0");
    expect(pkg.peerDependencies["@pulumi/pulumi"]).toMatch(/^>=3\.\d+\.\d+ <4$/);
    expect(pkg.dependencies["@pulumi/pulumi"]).toBeUndefined();
  });

  describe("installed into a scratch program", () => {
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      mkdirSync(scratch);
      writeFileSync(
        join(scratch, "package.json"),
        JSON.stringify({ name: "scratch-program", private: true, dependencies: { "openclaw-token-ops": `file:${tarball}`, "@pulumi/pulumi": "3.270.0" } }, null, 2),
      );
      // From npm's cache when it has the packages (setup filled it), else from the registry.
      ok(await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], scratch), "npm install of the tarball");
      writeFileSync(join(scratch, "Pulumi.yaml"), "name: scratch-program\nruntime: nodejs\nmain: index.js\n");
      writeFileSync(join(scratch, "index.js"), SCRATCH_PROGRAM);
      mkdirSync(join(work, "backend"));
      env = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${join(work, "backend")}`,
        PULUMI_HOME: join(work, "pulumi-home"),
        PULUMI_CONFIG_PASSPHRASE: "scratch-only",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
      };
      ok(await run("pulumi", ["stack", "init", "dev", "--non-interactive"], scratch, env), "pulumi stack init");
      ok(await run("pulumi", ["config", "set", "gatewayUrl", "http://127.0.0.1:9", "--non-interactive"], scratch, env), "pulumi config set");
      // The admin token goes in on stdin, as a secret, as the README says.
      ok(await run("pulumi", ["config", "set", "--secret", "adminToken", "--non-interactive"], scratch, env, FAKE_ADMIN_TOKEN), "pulumi config set --secret");
    });

    it("installs with its dependencies, and the exports map points at files that are there", () => {
      const installed = join(scratch, "node_modules", "openclaw-token-ops");
      const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { exports: Record<string, { types: string; default: string } | string> };
      for (const target of Object.values(pkg.exports)) {
        for (const file of typeof target === "string" ? [target] : [target.types, target.default]) expect(existsSync(join(installed, file))).toBe(true);
      }
      expect(existsSync(join(scratch, "node_modules", "@aws-sdk", "client-secrets-manager"))).toBe(true);
    });

    it("type-checks a TypeScript program that imports the resource and the client through the exports map", async () => {
      // In a folder of its own: a tsconfig.json next to Pulumi.yaml would make Pulumi compile the program as TypeScript.
      const types = join(scratch, "types");
      mkdirSync(types);
      writeFileSync(join(types, "types.ts"), SCRATCH_TYPES);
      writeFileSync(
        join(types, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { module: "node16", moduleResolution: "node16", target: "ES2023", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")] },
          files: ["types.ts"],
        }),
      );
      const result = await run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], types);
      expect(result).toMatchObject({ code: 0, stdout: "" });
    });

    it("pulumi preview plans the token on the real engine, and the value of the admin token stays out of its output", async () => {
      const preview = await run("pulumi", ["preview", "--json", "--non-interactive", "--stack", "dev"], scratch, env);

      expect(preview.code).toBe(0);
      const plan = JSON.parse(preview.stdout) as { steps: Array<{ op: string; urn: string }> };
      expect(plan.steps).toEqual(expect.arrayContaining([expect.objectContaining({ op: "create", urn: expect.stringMatching(/::ci-runner$/) })]));
      expect(plan.steps.find((s) => s.urn.endsWith("::ci-runner"))?.urn).toMatch(/openclaw:GatewayToken::ci-runner$/);
      expect(preview.stdout + preview.stderr).not.toContain(FAKE_ADMIN_TOKEN);
    });

    it("pulumi preview refuses a misspelt input, naming the closest valid one", async () => {
      ok(await run("pulumi", ["config", "set", "typo", "true", "--non-interactive"], scratch, env), "pulumi config set typo");
      try {
        const preview = await run("pulumi", ["preview", "--non-interactive", "--stack", "dev"], scratch, env);
        expect(preview.code).not.toBe(0);
        expect(preview.stdout + preview.stderr).toMatch(/rotationFracton: rotationFracton is not a GatewayToken input; did you mean rotationFraction\?/);
      } finally {
        await run("pulumi", ["config", "rm", "typo", "--non-interactive"], scratch, env);
      }
    });
  });
});
