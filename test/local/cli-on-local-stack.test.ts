/** The operator CLI against the local stack that `npm start -- --keep-running` leaves up, then Ctrl-C. */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

jest.setTimeout(240_000);

const ROOT = resolve(__dirname, "../..");

describe("openclaw-tokens on the local stack", () => {
  let local: ChildProcess;
  let output = "";
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    local = spawn(process.execPath, [resolve(ROOT, "dist/local.js"), "--keep-running"], { stdio: ["ignore", "pipe", "pipe"] });
    local.stdout?.on("data", (d) => (output += d));
    local.stderr?.on("data", (d) => (output += d));
    const deadline = Date.now() + 180_000;
    while (!/Keeping the local stack up/.test(output)) {
      if (local.exitCode !== null || Date.now() > deadline) throw new Error(`the local run did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const file = /source (\S+cli\.env)/.exec(output)?.[1] as string;
    cliEnv = Object.fromEntries(
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((line) => line.replace(/^export /, "").split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
  });

  afterAll(async () => {
    if (local && local.exitCode === null) {
      local.kill("SIGKILL");
    }
  });

  const cli = (...args: string[]) => {
    const result = spawnSync(process.execPath, [resolve(ROOT, "dist/cli.js"), ...args], { env: { ...process.env, ...cliEnv }, encoding: "utf8" });
    return { code: result.status, out: result.stdout + result.stderr };
  };

  it("shows every token of the local stack in status", () => {
    const { code, out } = cli("status");
    expect(code).toBe(0);
    for (const name of ["app-backend", "ci-runner", "dashboard"]) expect(out).toMatch(new RegExp(`^${name}\\s+idle\\s+tok_`, "m"));
    const json = JSON.parse(cli("status", "--json").out);
    // The rotator's own credential is a ledger entry like the tokens (bootstrap-rotator made it).
    expect(json.map((row: { name: string }) => row.name)).toEqual(["app-backend", "ci-runner", "dashboard", "openclaw-rotator"]);
    expect(out).toMatch(/^openclaw-rotator\s+idle\s+tok_/m);
  });

  it("verifies a token through its stored value", () => {
    const { code, out } = cli("verify", "ci-runner");
    expect(code).toBe(0);
    expect(out).toMatch(/run:jobs/);
  });

  it("starts a rotation with rotate, which status then shows as draining", () => {
    expect(cli("rotate", "dashboard").code).toBe(0);
    expect(cli("status").out).toMatch(/^dashboard\s+draining\s+tok_/m);
  });

  it("answers a leak with revoke --emergency, reporting the time taken", () => {
    const before = JSON.parse(cli("status", "--json").out).find((r: { name: string }) => r.name === "app-backend").tokenId;
    const { code, out } = cli("revoke", "app-backend", "--emergency");
    expect(code).toBe(0);
    expect(out).toContain(before);
    expect(out).toMatch(/\d+(\.\d+)? ?m?s/);
    const after = JSON.parse(cli("status", "--json").out).find((r: { name: string }) => r.name === "app-backend").tokenId;
    expect(after).not.toBe(before);
  });

  it("cleans everything up on Ctrl-C", async () => {
    const exited = new Promise<number | null>((r) => local.once("exit", (code) => r(code)));
    local.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(output).toMatch(/Cleaning up: pulumi destroy/);
    await expect(fetch(cliEnv.OPENCLAW_GATEWAY_URL)).rejects.toThrow();
    await expect(fetch(cliEnv.AWS_ENDPOINT_URL)).rejects.toThrow();
    expect(output + JSON.stringify(cliEnv)).not.toMatch(/openclaw_gw_dev_[A-Za-z0-9_-]{20,}/);
  });
});
