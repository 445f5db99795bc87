/** The README's main command as a newcomer runs it: the built local run, end to end, and its clean-up. */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

jest.setTimeout(240_000);

function runLocal(args: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve(__dirname, "../../dist/local.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, output }));
  });
}

describe("npm start (the local run)", () => {
  it("deploys the local stack, rotates every token dual-active with zero consumer failures, and cleans up", async () => {
    const { code, output } = await runLocal();

    expect(code).toBe(0);
    expect(output).toMatch(/pulumi up --stack local/);
    for (const name of ["ci-runner", "app-backend", "dashboard"]) {
      expect(output).toMatch(new RegExp(`${name}\\s+promote: new token is AWSCURRENT; old token stays valid as AWSPREVIOUS`));
      expect(output).toMatch(new RegExp(`${name}\\s+revoke: old token revoked and confirmed; rotation complete`));
      expect(output).toMatch(new RegExp(`^${name}\\s+idle\\s+tok_[0-9a-f]{16}`, "m"));
      expect(output).toMatch(new RegExp(`${name}\\s+\\d+ ok\\s+0 failed`));
      // After the table: the consumers the gateway saw, by X-OpenClaw-Consumer, on the current and the retiring token.
      const table = output.search(new RegExp(`^${name}\\s+idle\\s+tok_`, "m"));
      const current = new RegExp(`${name}\\s+current\\s+(tok_[0-9a-f]{16})\\s+${name}-worker \\(\\d+ requests, last status 20[01]\\)`).exec(output);
      const retiring = new RegExp(`${name}\\s+retiring\\s+(tok_[0-9a-f]{16})\\s+${name}-worker \\(\\d+ requests, last status 20[01](, none after the promotion|, last seen \\d+\\.\\ds after the promotion)\\)`).exec(output);
      expect(current).not.toBeNull();
      expect(retiring).not.toBeNull();
      expect(current!.index).toBeGreaterThan(table);
      expect(retiring![1]).not.toBe(current![1]);
    }
    expect(output.indexOf("Consumers per token")).toBeLessThan(output.indexOf("Consumers' tally"));
    // The rotator's EventBridge events, read back from a queue on moto: each token promoted and completed.
    const events = output.slice(output.indexOf("Rotation events the rotator published"), output.indexOf("Consumers' tally"));
    for (const name of ["ci-runner", "app-backend", "dashboard"]) {
      expect(events).toMatch(new RegExp(`${name}\\s+OpenClaw Token Rotation Promoted  tok_[0-9a-f]{16} \\(old tok_[0-9a-f]{16}\\)`));
      expect(events).toMatch(new RegExp(`${name}\\s+OpenClaw Token Rotation Completed  tok_[0-9a-f]{16}`));
    }
    expect(output).toMatch(/zero consumer failures/);
    expect(output).not.toMatch(/openclaw_gw_dev_[A-Za-z0-9_-]{20,}/);
    // Everything it started is gone: its servers no longer answer.
    const urls = [...output.matchAll(/moto at (http:\/\/127\.0\.0\.1:\d+), gateway at (http:\/\/127\.0\.0\.1:\d+)/g)][0];
    expect(urls).toBeDefined();
    for (const url of urls.slice(1)) await expect(fetch(url)).rejects.toThrow();
  });

  it("refuses an unknown option with its usage", async () => {
    const { code, output } = await runLocal(["--keep-runing"]);
    expect(code).toBe(2);
    expect(output).toMatch(/usage: npm start \[-- --keep-running\]/);
  });
});

describe("a local run that is killed outright", () => {
  it("takes its loopback servers down with it (SIGKILL leaves no moto or gateway behind)", async () => {
    const child = spawn(process.execPath, [resolve(__dirname, "../../dist/local.js"), "--keep-running"], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    let output = "";
    const urls = await new Promise<string[]>((resolvePromise, reject) => {
      const look = (chunk: Buffer): void => {
        output += chunk;
        const match = /moto at (http:\/\/127\.0\.0\.1:\d+), gateway at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolvePromise(match.slice(1));
      };
      child.stdout.on("data", look);
      child.stderr.on("data", look);
      child.once("exit", () => reject(new Error(`the local run exited before starting its servers:\n${output}`)));
    });
    for (const url of urls) expect((await fetch(url)).status).toBeLessThan(500);

    child.kill("SIGKILL"); // no signal handler, no finally: only the watchdogs can stop the servers now
    await exited;

    const stillAnswering = async (): Promise<string[]> => {
      const up: string[] = [];
      for (const url of urls) if (await fetch(url).then(() => true, () => false)) up.push(url);
      return up;
    };
    let up = await stillAnswering();
    for (let i = 0; i < 50 && up.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      up = await stillAnswering();
    }
    expect(up).toEqual([]);
  });
});
