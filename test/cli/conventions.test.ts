/**
 * The CLI's conventions, per command, on the shipped bundle: help, version, usage errors with a suggestion,
 * exit codes, JSON errors, colour only where asked for, and shell completion. None of these reach AWS or a gateway.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CLI_BUNDLE, CliRun, runCli } from "./run-cli";

const COMMANDS = ["status", "rotate", "revoke", "verify", "doctor", "audit", "completion", "help", "version"];
const ESC = "\u001b[";
/** "error:" in bold red, as styleText writes it. */
const RED_ERROR = `${ESC}1m${ESC}31merror:${ESC}39m${ESC}22m`;

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(undefined, args, { bare: true, env });
}

describe("help", () => {
  it.each(COMMANDS)("%s --help prints its usage, options, an example and the exit codes on stdout", async (command) => {
    const run = await cli([command, "--help"]);

    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(new RegExp(`^usage: openclaw-tokens ${command}\\b`));
    expect(run.stdout).toMatch(/^options:\n {2}\S/m);
    expect(run.stdout).toMatch(/^  -h, --help +this command's help$/m);
    expect(run.stdout).toMatch(new RegExp(`^examples?:\\n {2}.*openclaw-tokens ${command === "version" ? "--version" : command}`, "m"));
    expect(run.stdout).toMatch(/Exit codes: 0 success, 1 operation failed, 2 usage error, 3 status, doctor or audit found problems, or consumers found some still on an old token\./);
  });

  it("names each option's environment variable in the command's help", async () => {
    const run = await cli(["rotate", "-h"]);
    expect(run.stdout).toMatch(/^ {2}--environment dev\|stage\|prod +the stack's environment \(required\) \(OPENCLAW_ENVIRONMENT\)$/m);
    expect(run.stdout).toMatch(/^ {2}--ledger-table NAME +.*\(OPENCLAW_LEDGER_TABLE\)$/m);
  });

  it("help COMMAND is the command's --help, and --help alone is the overview", async () => {
    const [viaHelp, viaFlag, overview] = await Promise.all([cli(["help", "doctor"]), cli(["doctor", "--help"]), cli(["--help"])]);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(overview.stdout).toMatch(/^usage: openclaw-tokens <command> \[options\]/);
    for (const command of COMMANDS) expect(overview.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, "m"));
  });

  it("--help wins over a missing argument or environment", async () => {
    const run = await cli(["revoke", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: openclaw-tokens revoke NAME \[options\]/);
  });

  it("help of an unknown command suggests the closest", async () => {
    const run = await cli(["help", "audti"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: no command "audti" to explain\. Fix: did you mean `openclaw-tokens help audit`\?/);
  });
});

describe("version", () => {
  const { version } = JSON.parse(readFileSync(resolve(__dirname, "../../package.json"), "utf8")) as { version: string };

  it.each([[["--version"]], [["version"]]])("%j prints the package's version", async (args) => {
    const run = await cli(args);
    expect(run).toMatchObject({ code: 0, stdout: `openclaw-tokens ${version}\n`, stderr: "" });
  });
});

describe("usage errors", () => {
  it.each([
    [["stauts"], /unknown command "stauts"\. Fix: did you mean `openclaw-tokens status`\?/],
    [["doctr"], /unknown command "doctr"\. Fix: did you mean `openclaw-tokens doctor`\?/],
    [["frobnicate"], /unknown command "frobnicate"\. Fix: use one of status, rotate, revoke, verify, doctor, audit, consumers, bootstrap-rotator, completion, help, version/],
    [["revoke", "x", "--emergncy"], /unknown option --emergncy\. Fix: did you mean --emergency\?/],
    [["audit", "x", "--snice", "1d"], /unknown option --snice\. Fix: did you mean --since\?/],
    [["status", "--emergency"], /status has no option --emergency\. Fix: status accepts --environment, /],
    [["rotate", "x", "--live"], /rotate has no option --live\. Fix: rotate accepts /],
    [["status", "--json=yes"], /--json is a flag and takes no value/],
    [["status", "--live", "--live"], /--live is given twice/],
    [["audit"], /audit needs NAME\. Fix: write openclaw-tokens audit NAME \[options\]/],
    [["completion", "fish"], /no completion for shell "fish"\. Fix: use one of bash, zsh/],
  ])("%j exits 2 with the error, the fix and where help is, and nothing on stdout", async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: ${message.source}`));
    expect(run.stderr).toMatch(/usage: openclaw-tokens /);
    expect(run.stdout).toBe("");
  });

  it("status accepts --live (what the gateway says is added to the rows)", async () => {
    const run = await cli(["status", "--live"]);
    expect(run.code).toBe(2);
    // Past the option check: what is missing now is the environment.
    expect(run.stderr).toMatch(/^error: --environment is required/);
  });

  it("points a command's usage error at that command's help", async () => {
    const run = await cli(["verify", "a", "b"]);
    expect(run.stderr).toMatch(/^usage: openclaw-tokens verify NAME \[options\]\nRun `openclaw-tokens verify --help` for its options and an example\.$/m);
  });
});

describe("--json errors", () => {
  it("a usage error is one JSON object on stderr with code, message and hint; stdout stays empty", async () => {
    const run = await cli(["rotat", "x", "--json"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(JSON.parse(run.stderr)).toEqual({
      error: { code: "usage", message: 'unknown command "rotat"', hint: "did you mean `openclaw-tokens rotate`?" },
    });
  });

  it("a failed command's error carries its own code, and no hint when it has none", async () => {
    // No AWS answers at this endpoint: the error is AWS's, with this CLI's hint about it.
    const run = await cli(["status", "--environment", "dev", "--json"], {
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_MAX_ATTEMPTS: "1",
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n");
    const body = JSON.parse(lines[lines.length - 1]) as { error: { code: string; message: string; hint: string | null } };
    expect(body.error.hint).toMatch(/^nothing answers at AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:9/);
    expect(typeof body.error.code).toBe("string");
    expect(body.error.message).not.toContain("Fix:");
  });
});

describe("colour", () => {
  it("is off on a pipe", async () => {
    const run = await cli(["stauts"]);
    expect(run.stderr).not.toContain(ESC);
  });

  /** The CLI on a pseudo-terminal (util-linux `script`), the way a person runs it; stdout and stderr both land there. */
  function onTerminal(args: readonly string[], env: Record<string, string>): Promise<string> {
    // Node judges a terminal's colours from the environment too: under CI=true (as CI runs this suite) it reports two
    // colours, i.e. none. An operator's terminal has no CI variable, so neither has this one.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !["NO_COLOR", "FORCE_COLOR", "CI"].includes(key)));
    const command = [process.execPath, CLI_BUNDLE, ...args].map((a) => `'${a}'`).join(" ");
    return new Promise((resolvePromise) => {
      execFile("script", ["-qec", command, "/dev/null"], { env: { ...inherited, ...env }, timeout: 20_000 }, (_error, stdout) => resolvePromise(stdout));
    });
  }

  it("is on on a terminal, and off there with NO_COLOR", async () => {
    const [plain, noColor] = await Promise.all([onTerminal(["stauts"], {}), onTerminal(["stauts"], { NO_COLOR: "1" })]);
    expect(plain.startsWith(`${RED_ERROR} unknown command "stauts"`)).toBe(true);
    expect(noColor).toMatch(/^error: unknown command "stauts"/);
    expect(noColor).not.toContain(ESC);
  });

  it("is on with FORCE_COLOR even on a pipe", async () => {
    const forced = await cli(["stauts"], { FORCE_COLOR: "1" });
    expect(forced.stderr.startsWith(`${RED_ERROR} unknown command "stauts"`)).toBe(true);
  });

  it("never colours JSON", async () => {
    const run = await cli(["stauts", "--json"], { FORCE_COLOR: "1" });
    expect(run.stderr).not.toContain(ESC);
    expect(JSON.parse(run.stderr).error.code).toBe("usage");
  });
});

describe("completion", () => {
  /** Sources the bash script and asks its completion function about a command line, as bash would. */
  function complete(words: readonly string[]): Promise<string[]> {
    const line = words.map((w) => `'${w}'`).join(" ");
    const script = `source <("${process.execPath}" "${CLI_BUNDLE}" completion bash)
COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _openclaw_tokens; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return new Promise((resolvePromise, reject) => {
      execFile("bash", ["-c", script], { timeout: 20_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolvePromise(stdout.split("\n").filter(Boolean).sort());
      });
    });
  }

  it("bash: registers for openclaw-tokens and completes commands, options and closed values", async () => {
    expect(await complete(["openclaw-tokens", "ro"])).toEqual(["rotate"]);
    expect(await complete(["openclaw-tokens", ""])).toEqual(expect.arrayContaining(["audit", "doctor", "status", "--version"]));
    expect(await complete(["openclaw-tokens", "status", "--l"])).toEqual(["--ledger-table", "--live"]);
    expect(await complete(["openclaw-tokens", "status", "--li"])).toEqual(["--live"]);
    expect(await complete(["openclaw-tokens", "revoke", "x", "--em"])).toEqual(["--emergency"]);
    expect(await complete(["openclaw-tokens", "status", "--environment", "p"])).toEqual(["prod"]);
    expect(await complete(["openclaw-tokens", "completion", ""])).toEqual(expect.arrayContaining(["bash", "zsh"]));
  });

  it("zsh: a #compdef script describing every command and each command's options", async () => {
    const run = await cli(["completion", "zsh"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^#compdef openclaw-tokens\n/);
    for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^ {4}'${command}:`, "m"));
    expect(run.stdout).toMatch(/^ {4}doctor\) _arguments .*'--endpoint\[.*'--via\[/m);
    expect(run.stdout).toMatch(/'--environment\[[^\]]*\]:environment:\(dev stage prod\)'/);
  });
});

describe("the setup scripts and the local run follow the same conventions", () => {
  const ROOT = resolve(__dirname, "../..");

  function run(file: string, args: readonly string[], env: Record<string, string>): Promise<CliRun> {
    // Node judges a terminal's colours from the environment too: under CI=true (as CI runs this suite) it reports two
    // colours, i.e. none. An operator's terminal has no CI variable, so neither has this one.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !["NO_COLOR", "FORCE_COLOR", "CI"].includes(key)));
    return new Promise((resolvePromise) => {
      execFile(file, args, { env: { ...inherited, ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
        resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
      );
    });
  }

  it("scripts/env.sh's step lines are bold only when colour is wanted", async () => {
    const step = ["-c", `source "${ROOT}/scripts/env.sh"; step building`];
    expect((await run("bash", step, {})).stderr).toBe("==> building\n");
    expect((await run("bash", step, { FORCE_COLOR: "1" })).stderr).toBe(`${ESC}1m==> building${ESC}0m\n`);
    expect((await run("bash", step, { FORCE_COLOR: "0" })).stderr).toBe("==> building\n");
  });

  it("the local run refuses an unknown option with exit 2 and its usage (parsed by node:util parseArgs)", async () => {
    const bad = await run(process.execPath, [resolve(ROOT, "dist/local.js"), "--keep-runing"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: Unknown option '--keep-runing'.*\nusage: npm start \[-- --keep-running\]/s);
    const help = await run(process.execPath, [resolve(ROOT, "dist/local.js"), "--help"], {});
    expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: npm start/) });
  });
});
