import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { LEDGER_TABLE, RotationHarness } from "../support/rotation-harness";

/** The bundle jest's globalSetup builds (scripts/build.mjs): the tests run what `npm install -g` would ship. */
export const CLI_BUNDLE = resolve(__dirname, "../../dist/cli.js");

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Any token-shaped string that is not the redaction marker: a value that got out. */
export const TOKEN_VALUE = /openclaw_gw_[a-z]+_(?!\[REDACTED\])[A-Za-z0-9_-]+/;

/**
 * Runs `node dist/cli.js ...args` against the harness's moto and gateway, with the environment an operator of the
 * local stack would have (AWS_* for moto) and none of the OPENCLAW_* variables unless given. `--environment dev`
 * and `--ledger-table` are added unless `bare` is set.
 */
export function runCli(
  h: RotationHarness | undefined,
  args: readonly string[],
  options: { env?: Record<string, string>; bare?: boolean; stdin?: string } = {},
): Promise<CliRun> {
  // Colour is decided by each test: none of the runner's NO_COLOR/FORCE_COLOR leaks in.
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith("OPENCLAW_") && key !== "NO_COLOR" && key !== "FORCE_COLOR");
  const env: NodeJS.ProcessEnv = Object.fromEntries(inherited);
  Object.assign(env, h?.moto.env, options.env);
  const argv = options.bare ? [...args] : [...args, "--environment", "dev", "--ledger-table", LEDGER_TABLE];
  return new Promise((resolvePromise) => {
    const child = execFile(process.execPath, [CLI_BUNDLE, ...argv], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
    // stdin is always closed: a command that reads it sees the given text, or an empty stream.
    child.stdin?.end(options.stdin ?? "");
  });
}
