/**
 * The project's own stack program (infra/) on the real Pulumi engine with a throw-away file backend: `pulumi up`
 * creating N GatewayToken resources, against the same N tokens created directly through the provider runtime
 * (the code each resource's create runs: describe, ledger entry with the intent, mint, CreateSecret, ledger entry
 * idle) with the engine's parallelism; then no-change
 * `preview` and `up` over them, and `destroy`. A 1-token preview gives the engine's and the program's fixed cost.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { PulumiWorkspace } from "../../test/support/pulumi";
import { Figure, figure, ScenarioResult } from "../report";
import { ScenarioContext } from "../scenario";
import { tokenNames } from "../seed";
import { inParallel } from "../parallel";
import { median, timed } from "../stats";

/** `pulumi up --parallel`'s default on this machine is printed by `pulumi up --help`; direct creation uses the same. */
const ENGINE_PARALLELISM = 8;
const PROJECT_ROOT = resolve(__dirname, "../..");
/** Any one pulumi command is stopped (its whole process group) after this long. */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

export async function pulumiStack(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { env, options } = ctx;
  await env.reset();
  const n = options.pulumiTokens;
  const names = tokenNames("stack", n);
  const tokens = names.map((name) => ({ name, scopes: ["run:jobs"], ttl: "30d", recoveryWindowDays: 0 }));
  const workspace = new PulumiWorkspace("bench", env.moto.env);
  const s = { direct: [] as number[], up: [] as number[], preview: [] as number[], noChangeUp: [] as number[], destroy: [] as number[], previewOne: [] as number[] };
  try {
    ctx.progress("pulumi: stack init");
    await withTimeout(workspace.init(), COMMAND_TIMEOUT_MS, "pulumi login / stack init");
    const run = (args: string[], stdin = "") => pulumi(workspace, args, stdin);
    const salt = /encryptionsalt: (\S+)/.exec(readFileSync(workspace.configFile, "utf8"))?.[1];
    const writeConfig = async (declared: readonly object[]) => {
      const config = { "openclaw:environment": "dev", "openclaw:gatewayUrl": env.gateway.url, "openclaw:tokens": declared };
      writeFileSync(workspace.configFile, JSON.stringify({ ...(salt ? { encryptionsalt: salt } : {}), config }, null, 2));
      await run(["config", "set", "--secret", "openclaw:adminToken"], env.gateway.adminToken);
    };

    await writeConfig(tokens.slice(0, 1));
    for (let i = 0; i < options.pulumiNoChangeRuns; i++) {
      ctx.progress(`pulumi: preview of a 1-token stack ${i + 1}/${options.pulumiNoChangeRuns}`);
      s.previewOne.push((await timed(() => run(["preview"]))).ms);
    }
    await writeConfig(tokens);

    const runtime = env.providerRuntime();
    for (let cycle = 0; cycle < options.pulumiCycles; cycle++) {
      ctx.progress(`pulumi: cycle ${cycle + 1}/${options.pulumiCycles}: ${n} tokens directly through the provider runtime`);
      const direct = await timed(() =>
        inParallel(tokens, ENGINE_PARALLELISM, async (token) => {
          const checked = await runtime.check({}, { ...token, environment: "dev", gatewayUrl: env.gateway.url, adminToken: env.gateway.adminToken });
          if (checked.failures?.length) throw new Error(`pulumi: bad token declaration: ${JSON.stringify(checked.failures)}`);
          return runtime.create(checked.inputs);
        }),
      );
      s.direct.push(direct.ms);
      // Not measured: make room for the stack's tokens of the same names (their secrets and ledger entries), the way
      // pulumi destroy does.
      await inParallel(direct.result, ENGINE_PARALLELISM, (created) => runtime.delete(created.id, created.outs));

      ctx.progress(`pulumi: cycle ${cycle + 1}/${options.pulumiCycles}: pulumi up creating ${n} GatewayTokens`);
      const up = await timed(() => run(["up", "--yes", "--skip-preview"]));
      if (!new RegExp(`${n + 1} created`).test(up.result)) throw new Error(`pulumi: expected ${n + 1} resources created (stack + ${n}):\n${up.result.slice(-2000)}`);
      s.up.push(up.ms);
      for (let i = 0; i < options.pulumiNoChangeRuns; i++) {
        ctx.progress(`pulumi: cycle ${cycle + 1}/${options.pulumiCycles}: no-change preview and up ${i + 1}/${options.pulumiNoChangeRuns}`);
        s.preview.push((await timed(() => run(["preview", "--expect-no-changes"]))).ms);
        s.noChangeUp.push((await timed(() => run(["up", "--yes", "--expect-no-changes"]))).ms);
      }
      ctx.progress(`pulumi: cycle ${cycle + 1}/${options.pulumiCycles}: pulumi destroy`);
      s.destroy.push((await timed(() => run(["destroy", "--yes", "--skip-preview"]))).ms);
    }
  } finally {
    workspace.dispose();
  }
  const figures: Figure[] = [
    figure(`pulumi up, create ${n} GatewayTokens`, "ms", s.up, { value: median(s.direct), label: `same ${n} via the provider runtime, ${ENGINE_PARALLELISM} at a time` }),
    figure(`direct: create ${n} tokens + secrets via the provider runtime`, "ms", s.direct),
    figure(`pulumi preview, ${n} tokens, no change`, "ms", s.preview, { value: median(s.previewOne), label: "preview of 1 token" }),
    figure(`pulumi up, ${n} tokens, no change`, "ms", s.noChangeUp, { value: median(s.previewOne), label: "preview of 1 token" }),
    figure(`pulumi destroy, ${n} tokens`, "ms", s.destroy, { value: median(s.up), label: "pulumi up (create)" }),
    figure("pulumi preview, 1 token (fixed cost)", "ms", s.previewOne),
  ];
  const perResource = (median(s.up) - median(s.previewOne)) / n;
  const notes = [
    `pulumi up spends about ${perResource.toFixed(0)} ms per resource beyond the fixed cost of a 1-token preview (${median(s.previewOne).toFixed(0)} ms: CLI, language host, ts-node on infra/, the esbuild of the provider runtime); direct creation ${(median(s.direct) / n).toFixed(0)} ms per token at the same parallelism.`,
    `up uses --skip-preview; the no-change up includes its own preview. Engine parallelism: ${ENGINE_PARALLELISM} (pulumi's default here).`,
  ];
  return { id: "pulumi", title: `${n} GatewayToken resources on the real engine`, figures, notes };
}

/**
 * `pulumi <args>` on the workspace's stack, like PulumiWorkspace.ok, but stopped (with everything it started: the
 * language host, the program, the provider) if it runs past COMMAND_TIMEOUT_MS. Resolves to stdout; fails on a
 * non-zero exit with the command's output.
 */
function pulumi(workspace: PulumiWorkspace, args: string[], stdin: string): Promise<string> {
  const full = [...args, "--non-interactive", "--stack", workspace.stack, "--config-file", workspace.configFile];
  return new Promise((resolvePromise, reject) => {
    const child = spawn("pulumi", full, { cwd: PROJECT_ROOT, env: workspace.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    child.stdin.end(stdin);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, COMMAND_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) return resolvePromise(stdout);
      const why = timedOut ? `was stopped after ${COMMAND_TIMEOUT_MS / 1000} s` : `exited ${code}`;
      reject(new Error(`pulumi ${args.join(" ")} ${why}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
    });
  });
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
