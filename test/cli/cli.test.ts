/** The operator CLI as shipped (node dist/cli.js), against moto and the reference gateway. */
import { SecretsManagerClient, TagResourceCommand } from "@aws-sdk/client-secrets-manager";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { RotationHarness } from "../support/rotation-harness";
import { CliRun, runCli, TOKEN_VALUE } from "./run-cli";
import { Sensitive } from "../../src/domain/sensitive";

jest.setTimeout(60_000);

/** Every output of every run in this file: none may carry a token value. */
const outputs: string[] = [];
/** Every token value the tests saw, and the admin token. */
const values = new Set<string>();

/** A run with no AWS or gateway behind it: for what must fail before either is reached. */
async function cliWithoutStack(args: readonly string[], options: Parameters<typeof runCli>[2] = {}): Promise<CliRun> {
  const run = await runCli(undefined, args, options);
  outputs.push(run.stdout, run.stderr);
  return run;
}

describe("openclaw-tokens against moto and the reference gateway", () => {
  let h: RotationHarness;

  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  async function cli(args: readonly string[], options: Parameters<typeof runCli>[2] = {}): Promise<CliRun> {
    // The CLI runs on the harness's clock (as on the local stack's), so that the tests can let time pass.
    const run = await runCli(h, args, { ...options, env: { OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs), ...options.env } });
    outputs.push(run.stdout, run.stderr);
    return run;
  }

  /** Declares tokens and remembers their values (and the admin token) for the leak check. */
  async function declare(...specs: Parameters<RotationHarness["declare"]>): Promise<void> {
    await h.declare(...specs);
    values.add(h.gateway.adminToken);
    for (const spec of specs) values.add((await h.current(spec.name)).reveal());
  }

  async function idOf(name: string): Promise<string> {
    const token = await h.current(name);
    values.add(token.reveal());
    return (await h.admin.whoami(token)).id;
  }

  describe("status", () => {
    it("shows every token's phase, ID, scopes, age, TTL used and next rotation as an aligned table", async () => {
      await declare({ name: "ci-runner", scopes: ["run:jobs", "read:jobs"] }, { name: "dashboard", scopes: ["read:agents"], ttl: "90d" });
      expect(await h.consume(await h.current("dashboard"))).not.toBe(401);

      const run = await cli(["status", "--live"]);

      expect(run).toMatchObject({ code: 0, stderr: "" });
      const [header, ...lines] = run.stdout.trimEnd().split("\n");
      expect(header).toMatch(/^NAME\s+PHASE\s+TOKEN ID\s+SCOPES\s+AGE\s+TTL USED\s+NEXT ROTATION\s+LAST TRAFFIC\s+RETIRING$/);
      expect(lines).toHaveLength(2);
      const [ci, dashboard] = lines;
      expect(ci).toMatch(new RegExp(`^ci-runner\\s+idle\\s+${await idOf("ci-runner")}\\s+read:jobs,run:jobs\\s+\\d+s\\s+0%\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ \\(in 24(\\.0)?d\\)\\s+never\\s+-$`));
      expect(dashboard).toMatch(/^dashboard\s+idle\s+tok_\S+\s+read:agents\s+\d+s\s+0%\s+.*\(in 72(\.0)?d\)\s+\d+s ago\s+-$/);
      // Aligned: every column starts at the same offset on every line.
      for (const title of ["PHASE", "TOKEN ID", "AGE", "NEXT ROTATION"]) {
        const at = header.indexOf(title);
        for (const line of lines) expect(line[at - 1]).toBe(" ");
        for (const line of lines) expect(line[at]).not.toBe(" ");
      }
    });

    it("prints the rows as JSON with --json", async () => {
      await declare({ name: "ci-runner", scopes: ["run:jobs", "read:jobs"] });

      const run = await cli(["status", "--json", "--live"]);

      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([
        {
          name: "ci-runner",
          secretName: "openclaw/dev/ci-runner",
          tokenId: await idOf("ci-runner"),
          scopes: ["read:jobs", "run:jobs"],
          phase: "idle",
          issuedAt: expect.any(String),
          expiresAt: expect.any(String),
          ageSeconds: expect.any(Number),
          ttlSeconds: 30 * 86400,
          ttlUsedPercent: 0,
          nextRotationAt: expect.any(String),
          lastUsedAt: null,
          lastUsedKnown: true,
          retiringTokenId: null,
          retiringLastUsedAt: null,
          consumersOnOldToken: null,
          problems: [],
          warnings: [],
        },
      ]);
    });

    it("refuses to guess when the environment's tokens declare different gateways", async () => {
      await declare({ name: "ci-runner" }, { name: "dashboard" });
      const entry = await h.entry("dashboard");
      await h.ledger.writeAll(entry, { ...entry.declaration, gatewayUrl: "http://127.0.0.1:9" }, entry.state, undefined);

      const run = await cli(["status", "--live"]);

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/declare different gateway URLs: .*\(ci-runner\); http:\/\/127\.0\.0\.1:9 \(dashboard\)\. Fix: pass --gateway-url/);
      const chosen = await cli(["status", "--live", "--gateway-url", h.gateway.url]);
      expect(chosen.code).toBe(3);
      expect(chosen.stdout).toMatch(/^dashboard\s+bad-state\s/m);
      expect(chosen.stdout).toMatch(/^dashboard: problem: belongs to http:\/\/127\.0\.0\.1:9/m);
    });

    // Threat model, case 1: the admin token went wherever a secret's tag pointed.
    it("never sends the admin token to a URL from a secret's tags: the gateway comes from the ledger's declarations", async () => {
      await declare({ name: "ci-runner" });
      const received: string[] = [];
      const attacker = createServer((req, res) => {
        received.push(`${req.method} ${req.url} ${req.headers.authorization ? "with credentials" : ""}`);
        res.end("{}");
      });
      await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
      try {
        const url = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
        const client = new SecretsManagerClient({});
        await client.send(new TagResourceCommand({ SecretId: h.secretName("ci-runner"), Tags: [{ Key: "openclaw:gateway-url", Value: url }, { Key: "openclaw:backend", Value: "documented-api" }] }));
        client.destroy();

        for (const args of [["status", "--live"], ["verify", "ci-runner"], ["rotate", "ci-runner"]]) {
          const run = await cli(args);
          expect(run.code).toBe(0);
        }

        expect(received).toEqual([]);
      } finally {
        attacker.close();
      }
    });

    it("says so when the environment has no managed tokens", async () => {
      const run = await cli(["status"]);
      expect(run).toMatchObject({ code: 0, stdout: "No managed tokens.\n" });
    });
  });

  describe("rotate", () => {
    it("makes a new token current, keeps the old one valid, says what happens next, and status follows", async () => {
      await declare({ name: "ci-runner", scopes: ["run:jobs", "read:jobs"] }, { name: "dashboard" });
      const old = await h.current("ci-runner");
      const oldId = await idOf("ci-runner");

      const run = await cli(["rotate", "ci-runner"]);

      expect(run.code).toBe(0);
      const newId = await idOf("ci-runner");
      expect(newId).not.toBe(oldId);
      expect(run.stdout).toContain(`ci-runner: new token ${newId} is now AWSCURRENT of openclaw/dev/ci-runner.`);
      expect(run.stdout).toContain(`The old token ${oldId} stays valid (AWSPREVIOUS)`);
      expect(run.stdout).toContain(`A later scheduled run revokes ${oldId} once traffic shows up under ${newId} and the old token has gone unused for the rotator's quiet period`);
      expect(run.stdout).toContain("run `openclaw-tokens rotate ci-runner` again to revoke it yourself once consumers have moved (quiet period: 15m)");
      // The engine's log, compact and on stderr.
      expect(run.stderr).toMatch(/^info  start: rotation intent recorded \[token=ci-runner tokenId=tok_\S+ rotationId=\S+\]$/m);
      expect(run.stderr).toMatch(/^info  promote: new token is AWSCURRENT/m);
      expect(run.stderr).not.toMatch(/^\{/m);
      expect(await h.accepted(old)).toBe(true);
      expect(await h.accepted(await h.current("ci-runner"))).toBe(true);

      const status = await cli(["status", "--json", "--live"]);
      const rows = JSON.parse(status.stdout) as Array<Record<string, unknown>>;
      expect(rows.find((r) => r.name === "ci-runner")).toMatchObject({ phase: "draining", tokenId: newId, retiringTokenId: oldId, scopes: ["read:jobs", "run:jobs"] });
      expect(rows.find((r) => r.name === "dashboard")).toMatchObject({ phase: "idle", retiringTokenId: null });
      const table = await cli(["status", "--live"]);
      expect(table.stdout).toMatch(new RegExp(`^ci-runner\\s+draining\\s+${newId}\\s.*\\snever\\s+${oldId} \\(unused since rotation\\)$`, "m"));
    });

    it("run again once consumers have moved, revokes the old token and completes the rotation", async () => {
      await declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      const oldId = await idOf("ci-runner");
      await cli(["rotate", "ci-runner"]);
      const current = await h.current("ci-runner");
      expect(await h.consume(current)).toBe(201);
      // The CLI adds the clock-skew bound (15 minutes) to the quiet period: an operator's clock is not AWS's.
      await h.advance(16 * 60_000);

      const run = await cli(["rotate", "ci-runner", "--quiet-period", "1s"]);

      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`ci-runner: rotation complete; the old token ${oldId} is revoked, and ${await idOf("ci-runner")} is the only valid token.\n`);
      expect(run.stderr).toMatch(/^info  revoke: old token revoked and confirmed; rotation complete/m);
      expect(await h.accepted(old)).toBe(false);
      expect(await h.accepted(current)).toBe(true);
    });

    it("with --json, prints the outcome as JSON and logs JSON lines", async () => {
      await declare({ name: "ci-runner" });
      const oldId = await idOf("ci-runner");

      const run = await cli(["rotate", "ci-runner", "--json"]);

      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        name: "ci-runner",
        secretName: "openclaw/dev/ci-runner",
        outcome: "waiting",
        phase: "draining",
        previousTokenId: oldId,
        tokenId: await idOf("ci-runner"),
        retiringTokenId: oldId,
      });
      const logs = run.stderr.trim().split("\n").map((line) => JSON.parse(line));
      expect(logs[0]).toMatchObject({ level: "info", message: "start: rotation intent recorded", token: "ci-runner", step: "start" });
    });

    it("fails with the option to fix when the ledger table is not there", async () => {
      await declare({ name: "ci-runner" });
      const before = await idOf("ci-runner");

      const run = await cli(["rotate", "ci-runner", "--environment", "dev", "--ledger-table", "wrong-ledger-dev"], { bare: true });

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: ledger Query on table wrong-ledger-dev failed: ResourceNotFoundException.*\. Fix: pass --ledger-table \(or OPENCLAW_LEDGER_TABLE\)/m);
      expect(await idOf("ci-runner")).toBe(before);
    });

    it("names the environment's tokens when the name is unknown", async () => {
      await declare({ name: "ci-runner" }, { name: "dashboard" });

      const run = await cli(["rotate", "ci-runnr"]);

      expect(run.code).toBe(1);
      expect(run.stderr).toBe('error: dev has no managed token named "ci-runnr". Fix: use one of: ci-runner, dashboard\n');
    });
  });

  describe("revoke --emergency", () => {
    it("revokes the leaked token at once, issues a working replacement, and reports the time taken", async () => {
      await declare({ name: "ci-runner" });
      const leaked = await h.current("ci-runner");
      const leakedId = await idOf("ci-runner");

      const run = await cli(["revoke", "ci-runner", "--emergency"]);

      expect(run.code).toBe(0);
      const newId = await idOf("ci-runner");
      expect(run.stdout).toMatch(/^ci-runner: emergency revocation done in \d+\.\d\ds\.$/m);
      expect(run.stdout).toContain(`Revoked:   ${leakedId} (the gateway refuses it from now on)`);
      expect(run.stdout).toContain(`New token: ${newId} (AWSCURRENT of openclaw/dev/ci-runner)`);
      expect(run.stdout).toMatch(/consumers are refused until they read the new value/);
      expect(run.stderr).toMatch(/^warn  emergency: leaked tokens revoked and confirmed refused/m);
      // It ends with the guide's leak checklist: what it did, and what remains.
      const checklist = run.stdout.slice(run.stdout.indexOf("Leak checklist"));
      expect(checklist.split("\n").slice(1, 8)).toEqual([
        expect.stringMatching(new RegExp(`^  \\[done\\] 1\\. Revoke immediately: ${leakedId} revoked at \\d{4}-\\S+Z, \\d+\\.\\d\\ds in all$`)),
        "  [done] 2. Confirm revocation: whoami with the revoked token answers 401",
        `  [todo] 3. Audit recent activity: check the request log for calls you did not make: openclaw-tokens audit ci-runner --environment dev --since 7d --new-after <when it leaked> --token-id ${leakedId}`,
        `  [done] 4. Generate a replacement: ${newId}, same scopes, a new name on the gateway`,
        "  [todo] 5. Deploy the replacement: consumers are refused until they reload openclaw/dev/ci-runner (AWSCURRENT): restart or reload them now",
        "  [todo] 6. Rotate dependent secrets: anything the token could read (provider keys, admin configs) is to be rotated too",
        "  [todo] 7. Post-mortem: how did it leak (source control, a log file, a chat message)? Close that path",
      ]);
      expect(await h.accepted(leaked)).toBe(false);
      expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
    });

    it("revokes both tokens of a rotation in progress, and reports elapsed time as JSON", async () => {
      await declare({ name: "ci-runner" });
      const firstId = await idOf("ci-runner");
      await cli(["rotate", "ci-runner"]);
      const secondId = await idOf("ci-runner");

      const run = await cli(["revoke", "ci-runner", "--emergency", "--json"]);

      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ name: "ci-runner", newTokenId: await idOf("ci-runner"), elapsedMs: expect.any(Number) });
      expect(result.checklist.map((item: { step: string; done: boolean }) => [item.step, item.done])).toEqual([
        ["Revoke immediately", true],
        ["Confirm revocation", true],
        ["Audit recent activity", false],
        ["Generate a replacement", true],
        ["Deploy the replacement", false],
        ["Rotate dependent secrets", false],
        ["Post-mortem", false],
      ]);
      expect([...result.revokedTokenIds].sort()).toEqual([firstId, secondId].sort());
    });
  });

  describe("audit", () => {
    async function call(token: string, userAgent: string): Promise<number> {
      const res = await fetch(`${h.gateway.url}/v1/agents`, { headers: { Authorization: `Bearer ${token}`, "User-Agent": userAgent } });
      await res.arrayBuffer();
      return res.status;
    }
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

    it("groups the current and previous tokens' requests by consumer and flags one first seen after --new-after", async () => {
      await declare({ name: "dashboard", scopes: ["read:agents"] });
      const oldId = await idOf("dashboard");
      expect(await call((await h.current("dashboard")).reveal(), "dashboard-ui/3.0")).toBe(200);
      await cli(["rotate", "dashboard"]);
      const newId = await idOf("dashboard");
      expect(await call((await h.current("dashboard")).reveal(), "dashboard-ui/3.0")).toBe(200);
      await pause();
      const marker = new Date().toISOString();
      await pause();
      expect(await call((await h.current("dashboard")).reveal(), "curl/8.5.0")).toBe(200);

      const run = await cli(["audit", "dashboard", "--since", "1h", "--new-after", marker]);

      expect(run.code).toBe(3);
      expect(run.stdout).toMatch(new RegExp(`^  ${newId}  AWSCURRENT, active: 2 requests$`, "m"));
      expect(run.stdout).toMatch(new RegExp(`^  ${oldId}  AWSPREVIOUS, active: 1 request$`, "m"));
      expect(run.stdout).toMatch(new RegExp(`^dashboard-ui/3\\.0\n  2 requests, first \\S+, last \\S+, token ${oldId}, ${newId}\n +2 {2}200 {2}GET /v1/agents$`, "m"));
      expect(run.stdout).toMatch(/^curl\/8\.5\.0 {2}\[NEW CONSUMER\]$/m);
      expect(run.stdout).toMatch(/^1 consumer flagged: check that these calls are yours/m);
      expect(run.stdout).toMatch(/^\(\d+ requests? by openclaw-token-ops itself left out\)$/m);
    });

    it("after revoke --emergency, flags calls made with the leaked token after its revocation (--token-id, --json)", async () => {
      await declare({ name: "dashboard", scopes: ["read:agents"] });
      const leaked = (await h.current("dashboard")).reveal();
      const leakedId = await idOf("dashboard");
      expect(await call(leaked, "dashboard-ui/3.0")).toBe(200);
      expect((await cli(["revoke", "dashboard", "--emergency"])).code).toBe(0);
      expect(await call(leaked, "scraper/1.0")).toBe(401);

      const run = await cli(["audit", "dashboard", "--token-id", leakedId, "--json"]);

      expect(run.code).toBe(3);
      const report = JSON.parse(run.stdout);
      expect(report.tokens).toEqual(expect.arrayContaining([expect.objectContaining({ tokenId: leakedId, status: "revoked", revokedAt: expect.any(String) })]));
      expect(report.consumers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ consumer: "dashboard-ui/3.0", afterRevocation: 0, newConsumer: false }),
          expect.objectContaining({ consumer: "scraper/1.0", afterRevocation: 1, endpoints: [{ endpoint: "GET /v1/agents", status: 401, count: 1 }] }),
        ]),
      );
      expect(report.flagged).toBe(1);
    });

    it("with nothing to flag, exits 0", async () => {
      await declare({ name: "dashboard", scopes: ["read:agents"] });
      expect(await call((await h.current("dashboard")).reveal(), "dashboard-ui/3.0")).toBe(200);
      const run = await cli(["audit", "dashboard"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Nothing flagged\.$/m);
    });
  });

  describe("consumers", () => {
    it("lists each consumer with its last use of the new and the old token, names the ones still on the old one, and status counts them", async () => {
      await declare({ name: "orders" });
      const old = await h.current("orders");
      const call = (token: string, consumer: string) => h.consume(new Sensitive(token), consumer);
      await call(old.reveal(), "orders-a");
      await call(old.reveal(), "orders-b");
      await cli(["rotate", "orders"]);
      const fresh = await h.current("orders");
      values.add(fresh.reveal());
      await call(fresh.reveal(), "orders-a");
      // The rotator's check records who it waits for (the status count comes from the ledger). The CLI judges the
      // evidence the clock-skew bound (15 minutes) earlier than its own clock: let that much time pass.
      await h.advance(16 * 60_000);
      await cli(["rotate", "orders", "--quiet-period", "1s"]).catch(() => undefined);

      const run = await cli(["consumers", "orders"]);
      expect(run.code).toBe(3);
      const [header, ...lines] = run.stdout.trimEnd().split("\n");
      expect(header).toMatch(/^CONSUMER\s+ON\s+LAST SEEN \(NEW\)\s+LAST SEEN \(OLD\)\s+REQUESTS\s+LAST STATUS$/);
      expect(lines[0]).toMatch(/^orders-b\s+old\s+-\s+\d{4}-.*ago\)\s+1\s+201\s+still on the old token$/);
      expect(lines[1]).toMatch(/^orders-a\s+both\s+\d{4}-.*ago\)\s+\d{4}-.*ago\)\s+2\s+201$/);
      expect(run.stdout).toMatch(/1 consumer still on the old token tok_/);

      const json = JSON.parse((await cli(["consumers", "orders", "--json"])).stdout);
      expect(json.consumers.map((c: { consumer: string; on: string; stillOnOldToken: boolean }) => [c.consumer, c.on, c.stillOnOldToken])).toEqual([
        ["orders-b", "old", true],
        ["orders-a", "both", false],
      ]);
      const status = JSON.parse((await cli(["status", "--json"])).stdout) as Array<Record<string, unknown>>;
      expect(status.find((r) => r.name === "orders")).toMatchObject({ phase: "draining", consumersOnOldToken: 1 });
      expect((await cli(["status"])).stdout).toMatch(/\(unused since rotation, 1 consumer still on it\)|1 consumer still on it\)$/m);
    });
  });

  describe("doctor NAME (the guide's \"502 or 504 right after token rotation\": a consumer that cached the old token)", () => {
    interface DoctorJson {
      readonly checks: Array<{ id: string; status: string; message: string; fix?: string }>;
      readonly token: { source: string; id: string | null };
    }
    const secretCheck = (run: CliRun) => (JSON.parse(run.stdout) as DoctorJson).checks.find((c) => c.id === "secret");

    /** One full rotation: rotate, a consumer moves to the new token, and rotate again once the old one is quiet. */
    async function rotateFully(name: string): Promise<void> {
      await cli(["rotate", name]);
      expect(await h.consume(await h.current(name))).toBe(201);
      await h.advance(16 * 60_000); // past the quiet period plus the CLI's clock-skew bound
      expect((await cli(["rotate", name, "--quiet-period", "1s"])).code).toBe(0);
    }

    it("without a token, checks the secret's AWSCURRENT against its own gateway", async () => {
      await declare({ name: "ci-runner", scopes: ["run:jobs"] });

      const run = await cli(["doctor", "ci-runner", "--endpoint", "POST /v1/jobs", "--json"]);

      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as DoctorJson;
      expect(report.token).toMatchObject({ source: "AWSCURRENT of openclaw/dev/ci-runner", id: await idOf("ci-runner") });
      expect(secretCheck(run)).toMatchObject({ status: "ok", message: `the token is AWSCURRENT (${await idOf("ci-runner")}) of openclaw/dev/ci-runner` });
    });

    it("sends the stored token through --via only to a URL its gateway could have", async () => {
      await declare({ name: "ci-runner" });

      const run = await cli(["doctor", "ci-runner", "--via", "http://proxy.attacker.example", "--json"]);

      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(JSON.parse(run.stderr).error).toMatchObject({ code: "via_refused", message: expect.stringMatching(/plain http is only allowed on loopback/) });
    });

    it("a consumer still on AWSPREVIOUS during a rotation: valid, about to be retired; fix: reload", async () => {
      await declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      const oldId = await idOf("ci-runner");
      await cli(["rotate", "ci-runner"]);

      const run = await cli(["doctor", "ci-runner", "--json"], { env: { OPENCLAW_GATEWAY_TOKEN: old.reveal() } });

      expect(run.code).toBe(3);
      expect(secretCheck(run)).toEqual({
        id: "secret",
        status: "problem",
        message: `the token is AWSPREVIOUS (${oldId}) of openclaw/dev/ci-runner, the one being retired: still valid while consumers move, and revoked once the rotation completes`,
        fix: "roll the service so it reloads secrets (it cached the old token)",
      });
    });

    it("a consumer holding a token the secret no longer knows: a stale cache; fix: roll the service", async () => {
      await declare({ name: "ci-runner" });
      const first = await h.current("ci-runner");
      await rotateFully("ci-runner");
      await rotateFully("ci-runner");

      const run = await cli(["doctor", "ci-runner", "--json"], { stdin: first.reveal() });

      expect(run.code).toBe(3);
      const report = JSON.parse(run.stdout) as DoctorJson;
      expect(report.checks.find((c) => c.id === "whoami")?.status).toBe("problem");
      expect(secretCheck(run)).toEqual({
        id: "secret",
        status: "problem",
        message: `openclaw/dev/ci-runner no longer knows this token (AWSCURRENT is ${await idOf("ci-runner")}): a stale cache, the guide's "502 or 504 right after token rotation"`,
        fix: "roll the service so it reloads secrets; it must read AWSCURRENT of openclaw/dev/ci-runner",
      });
    });
  });

  describe("options", () => {
    it("requires the environment, by flag or OPENCLAW_ENVIRONMENT", async () => {
      const missing = await cli(["status"], { bare: true });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^error: --environment is required: give --environment dev\|stage\|prod or set OPENCLAW_ENVIRONMENT$/m);

      const fromEnv = await cli(["status"], { bare: true, env: { OPENCLAW_ENVIRONMENT: "dev" } });
      expect(fromEnv).toMatchObject({ code: 0, stdout: "No managed tokens.\n" });
    });

  });

  describe("verify", () => {
    it("shows the ID, scopes, expiry and remaining TTL the gateway reports for the stored token", async () => {
      await declare({ name: "ci-runner", scopes: ["run:jobs", "read:jobs"] });
      const id = await idOf("ci-runner");

      const run = await cli(["verify", "ci-runner"]);

      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(/^ci-runner: OK, the gateway accepts the stored token\.$/m);
      expect(run.stdout).toMatch(new RegExp(`^  token ID   ${id} \\(ci-runner-\\S+\\)$`, "m"));
      expect(run.stdout).toMatch(/^  scopes     read:jobs, run:jobs$/m);
      expect(run.stdout).toMatch(/^  expires    \d{4}-\d\d-\d\d \d\d:\d\dZ$/m);
      expect(run.stdout).toMatch(/^  remaining  30(\.0)?d of 30d TTL$/m);
    });

    it("never sends the token to a gateway other than its own", async () => {
      await declare({ name: "ci-runner" });

      const run = await cli(["verify", "ci-runner", "--gateway-url", "http://127.0.0.1:9"]);

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: ci-runner's token belongs to http:\/\/127\.0\.0\.1:\d+; refusing to send it to http:\/\/127\.0\.0\.1:9\. Fix: drop --gateway-url/);
    });

    it("fails with the guide's fix once the token was revoked out of band", async () => {
      await declare({ name: "ci-runner" });
      const id = await idOf("ci-runner");
      await h.admin.revoke(id);

      const run = await cli(["verify", "ci-runner"]);

      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(new RegExp(`^error: ci-runner: the gateway refused the stored token ${id} \\(AWSCURRENT of openclaw/dev/ci-runner\\): GET http://\\S+/v1/auth/whoami answered 401: invalid token\\. Fix: .*that it was not revoked`));
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });
  });

});

describe("openclaw-tokens usage", () => {
  describe("bad usage", () => {
    it.each([
      [[], /error: no command given/],
      [["rotat", "ci-runner"], /error: unknown command "rotat"\. Fix: did you mean `openclaw-tokens rotate`\?/],
      [["status", "--environmnet", "dev"], /error: unknown option --environmnet\. Fix: did you mean --environment\?/],
      [["rotate"], /error: rotate needs NAME\. Fix: write openclaw-tokens rotate NAME \[options\]/],
      [["verify", "a", "b"], /error: verify takes one NAME, but got: a b/],
      [["revoke", "ci-runner"], /error: revoke is only for a leaked token and needs --emergency\. Fix: to replace a token routinely, without breaking its consumers, run `openclaw-tokens rotate NAME`/],
      [["status", "--quiet-period", "soon"], /error: status has no option --quiet-period/],
      [["rotate", "x", "--quiet-period", "soon"], /error: --quiet-period "soon" is not a duration/],
      [["status", "--environment"], /error: --environment needs a value/],
    ])("exits 2 with usage for %j", async (args, message) => {
      const run = await cliWithoutStack(args as string[], { bare: (args as string[]).includes("--environment") || (args as string[]).length === 0 });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/usage: openclaw-tokens /);
      expect(run.stdout).toBe("");
    });

    it("prints the usage with help", async () => {
      const run = await cliWithoutStack(["help"], { bare: true });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^usage: openclaw-tokens <command> \[options\]/);
    });
  });
});

// Last: every run above, whatever it printed, printed no token value.
describe("every run above", () => {
  it("never printed a token value, on stdout or stderr", () => {
    expect(outputs.length).toBeGreaterThan(20);
    expect(values.size).toBeGreaterThan(5);
    const all = outputs.join("\n");
    expect(all).not.toMatch(TOKEN_VALUE);
    for (const value of values) expect(all).not.toContain(value);
  });
});
