/**
 * Issue 11's main claim, end to end: per-consumer gateway tokens for a self-hosted OpenClaw, rotated with zero downtime.
 * The real `openclaw` gateway in trusted-proxy mode behind the token front on loopback, moto for Secrets Manager and
 * the ledger table, tokens declared with the real Pulumi CLI (documented-api backend pointed at the front), consumers
 * reading AWSCURRENT through the package's client and calling OpenClaw through the front over HTTP and WebSocket, and
 * the bundled rotator Lambda run on a shared clock until every token went through a full dual-active rotation.
 * Steps run in order and share one stack.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { OffsetClock } from "../../local/clock";
import { GatewayTokenClient } from "../../src/client";
import type { Sensitive } from "../../src/domain/sensitive";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { dueAt, LedgerPhase, type LedgerEntry } from "../../src/ledger/ledger";
import { DEFAULT_SETTINGS } from "../../src/rotation/settings";
import { isRotatorCredential, ledgerTableName } from "../../src/store/metadata";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { Stage } from "../../src/store/token-store";
import { CLI_BUNDLE } from "../cli/run-cli";
import { HttpConsumer, OperatorConsumer, type ConsumerCall } from "../support/front-consumers";
import { startMoto, type MotoServer } from "../support/moto";
import { startOpenClawGateway, type OpenClawGateway } from "../support/openclaw-gateway";
import { PulumiWorkspace } from "../support/pulumi";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { runBundledRotator, type RotatorRun } from "../support/run-rotator";

jest.setTimeout(240_000);

/** As in front-openclaw.test.ts: OpenClaw trusts only the front's source address; local consumers count as remote. */
const PROXY_ADDRESS = "127.0.0.2";
const LOCAL_CONSUMER_ADDRESS = "100.64.0.1";
/** What run-rotator.ts gives the bundled rotator (OPENCLAW_QUIET_PERIOD): how long moved consumers must settle. */
const QUIET_PERIOD_MS = 10 * 60_000;
/** Consumers re-read AWSCURRENT this often (real time): a service with a short secrets cache. */
const CONSUMER_CACHE_MS = 1_000;

/** OpenClaw's answers, as front-openclaw.test.ts pins them: its model list, and the (empty) sessions tool result. */
const LIST_MODELS: ConsumerCall = {
  method: "GET",
  path: "/v1/models",
  isAnswer: (body) => (body as { data?: Array<{ id: string }> }).data?.some((m) => m.id === "openclaw/default") === true,
};
const INVOKE_TOOL: ConsumerCall = {
  method: "POST",
  path: "/tools/invoke",
  body: { tool: "sessions_list", args: {} },
  isAnswer: (body) => (body as { ok?: boolean }).ok === true,
};

/**
 * The declarations, and who uses each: a dashboard listing models (read:agents), and an operations bot that invokes a
 * harmless tool (run:jobs) and keeps an operator WebSocket open for `health` (operator.read, from read:agents).
 */
const TOKENS = [
  // Due (at 80%) before the rotator's own 7-day credential is: the test jumps straight to their rotation.
  { name: "dashboard", scopes: ["read:agents"], ttl: "5d", recoveryWindowDays: 0 },
  { name: "ops-bot", scopes: ["read:agents", "run:jobs"], ttl: "5d", recoveryWindowDays: 0 },
] as const;
type TokenName = (typeof TOKENS)[number]["name"];
const SECRET = (name: TokenName): string => `openclaw/dev/${name}`;
/** How this test's own checks with consumer tokens name themselves to the front: one more consumer in its log. */
const PROBE = "e2e-probe";

/** A token as a test step remembers it: its ID and value (never printed). */
interface HeldToken {
  readonly tokenId: string;
  readonly value: Sensitive;
}

describe("per-consumer tokens for a real OpenClaw behind the token front, rotated dual-active by the bundled rotator", () => {
  let moto: MotoServer;
  let openclaw: OpenClawGateway;
  let front: ReferenceGateway;
  let workspace: PulumiWorkspace;
  let store: SecretsManagerTokenStore;
  let ledger: DynamoDbLedger;
  let secretsManager: SecretsManagerClient;
  /** The rotator's and the front's "now": both are moved together, so that a month of TTL passes in seconds. */
  const clock = new OffsetClock();
  const savedEnv = { ...process.env };
  const declared = new Map<TokenName, HeldToken>();
  const rotated = new Map<TokenName, HeldToken>();
  const consumers: Array<{ readonly token: TokenName; readonly consumer: HttpConsumer | OperatorConsumer }> = [];
  const runs: RotatorRun[] = [];

  beforeAll(async () => {
    [moto, openclaw] = await Promise.all([startMoto(), startOpenClawGateway({ trustedProxy: { proxyAddress: PROXY_ADDRESS } })]);
    front = await startReferenceGateway({
      environment: "dev",
      serveArgs: ["--upstream", openclaw.url, "--upstream-source-address", PROXY_ADDRESS, "--local-consumer-address", LOCAL_CONSUMER_ADDRESS],
    });
    Object.assign(process.env, moto.env);
    secretsManager = new SecretsManagerClient({});
    store = new SecretsManagerTokenStore({ environment: "dev" });
    // What the environment has before any stack runs (the rotator's deployment creates them in AWS).
    ledger = new DynamoDbLedger({ tableName: ledgerTableName("dev"), environment: "dev" });
    await ledger.ensureTable();
    await bootstrapRotatorCredential(front);

    workspace = new PulumiWorkspace("front-e2e", moto.env);
    await workspace.init();
    const salt = /encryptionsalt: (\S+)/.exec(readFileSync(workspace.configFile, "utf8"))?.[1];
    const config = { "openclaw:environment": "dev", "openclaw:gatewayUrl": front.url, "openclaw:tokens": TOKENS };
    writeFileSync(workspace.configFile, JSON.stringify({ ...(salt ? { encryptionsalt: salt } : {}), config }, null, 2));
    // No openclaw:adminToken: the provider mints with the rotator's credential.
  }, 240_000);

  afterAll(async () => {
    await Promise.all(consumers.map(({ consumer }) => consumer.stop().catch(() => undefined)));
    secretsManager?.destroy();
    process.env = savedEnv;
    await Promise.all([front?.stop(), openclaw?.stop(), moto?.stop()]);
    workspace?.dispose();
  }, 60_000);

  async function currentToken(name: TokenName): Promise<HeldToken> {
    const record = await store.read(SECRET(name), Stage.Current);
    if (!record) throw new Error(`no AWSCURRENT for ${name}`);
    return { tokenId: record.tokenId, value: record.token };
  }

  async function ledgerEntries(): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    // The rotator's own credential has no consumer here; it is not due during the test.
    for await (const entry of ledger.list()) if (!isRotatorCredential(entry.declaration)) entries.push(entry);
    return entries;
  }

  /** Moves the rotator's clock (passed to each run) and the front's (its test control) to the same instant. */
  async function moveClockTo(at: number): Promise<void> {
    clock.offsetMs = at - Date.now();
    await front.setClockOffset(clock.offsetMs);
  }

  const admin = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${front.url}${path}`, { headers: { authorization: `Bearer ${front.adminToken}` } });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    return (await res.json()) as T;
  };

  it("pulumi up declares each token on the front, with its scopes, its value in its own secret", async () => {
    await workspace.ok(["up", "--yes", "--skip-preview"]);

    // The probe's calls here lie a month of simulated time before the rotation: outside what its drain looks at.
    for (const token of TOKENS) {
      const held = await currentToken(token.name);
      declared.set(token.name, held);
      const whoami = await probe(front.url, { method: "GET", path: "/v1/auth/whoami" }, held.value);
      expect(whoami.status).toBe(200);
      expect(await whoami.json()).toMatchObject({ id: held.tokenId, scopes: [...token.scopes].sort() });
    }
    expect((await ledgerEntries()).map((e) => e.state.phase)).toEqual([LedgerPhase.Idle, LedgerPhase.Idle]);
  });

  it("rotates every token dual-active while its consumers keep calling OpenClaw through the front: zero failures", async () => {
    // Prepare: each consumer reads AWSCURRENT through the package's client and names itself to the front.
    const client = (token: TokenName, identity: string) =>
      new GatewayTokenClient({ secretName: SECRET(token), secretsManager, cacheTtlMs: CONSUMER_CACHE_MS, consumer: identity, userAgent: "consumer-service/1.0" });
    consumers.push(
      { token: "dashboard", consumer: new HttpConsumer("dashboard-web-1", client("dashboard", "dashboard-web-1"), LIST_MODELS) },
      { token: "ops-bot", consumer: new HttpConsumer("ops-bot-worker-1", client("ops-bot", "ops-bot-worker-1"), INVOKE_TOOL) },
      { token: "ops-bot", consumer: new OperatorConsumer("ops-bot-operator-1", client("ops-bot", "ops-bot-operator-1")) },
    );
    for (const { consumer } of consumers) consumer.start();
    await waitFor("every consumer answered with its declared token", () => consumers.every(({ token, consumer }) => consumer.used(tokenOf(declared, token))));

    // Act: force the tokens due (the clock at their rotation time), then scheduled runs of the bundled Lambda, with
    // the quiet period passing between them, until every token is back to idle with a new current token.
    const entries = await ledgerEntries();
    await moveClockTo(Math.max(...entries.map((e) => dueAt(e.state.current!, e.declaration, DEFAULT_SETTINGS.expiryMarginMs).getTime())) + 60_000);
    for (let run = 0; run < 6; run++) {
      const result = await runBundledRotator({ moto, gateway: front, clock }, { env: { OPENCLAW_ADMIN_SECRET_ID: "" } });
      runs.push(result);
      if (result.code !== 0) throw new Error(`the rotator exited ${result.code}:\n${result.stdout.slice(-4_000)}\n${result.stderr.slice(-2_000)}`);
      const after = await ledgerEntries();
      if (after.every((e) => e.state.phase === LedgerPhase.Idle && !e.state.retiring && e.state.current?.tokenId !== declared.get(e.declaration.name as TokenName)?.tokenId)) break;
      // Consumers pick AWSCURRENT up through their cache; the drain needs each of them on the new token, settled.
      const current = new Map(after.map((e) => [e.declaration.name, e.state.current!.tokenId]));
      await waitFor("every consumer answered with the promoted token", () => consumers.every(({ token, consumer }) => consumer.used(current.get(token)!)));
      await moveClockTo(clock.now().getTime() + QUIET_PERIOD_MS + 60_000);
    }
    for (const token of TOKENS) rotated.set(token.name, await currentToken(token.name));
    // The consumers keep going a little after the revocations: nothing they do may break.
    await sleep(1_500);
    await Promise.all(consumers.map(({ consumer }) => consumer.stop()));

    // Assess: each token completed one rotation, and no consumer call failed, over HTTP or WebSocket.
    const outcomes = runs.map((r) => r.result.outcomes ?? {});
    for (const token of TOKENS) {
      // Promoted and waiting for the consumers (both tokens valid), then revoked once they had all moved: a run at the
      // deadline, or one that found consumers still on the old token, would not say "completed".
      expect(outcomes.map((o) => o[SECRET(token.name)])).toEqual(["waiting", "completed"]);
      expect(rotated.get(token.name)!.tokenId).not.toBe(declared.get(token.name)!.tokenId);
    }
    for (const { consumer } of consumers) {
      const tally = consumer.tally;
      expect(tally.failures).toEqual([]);
      expect(tally.calls).toBeGreaterThan(10);
      expect(tally.tokenIds).toEqual([tokenOf(declared, consumerToken(consumer)), tokenOf(rotated, consumerToken(consumer))]);
    }
    const operator = consumers.find(({ consumer }) => consumer instanceof OperatorConsumer)!.consumer as OperatorConsumer;
    // One connection per token: it moved to the new token on its own, before the old one was revoked.
    expect(operator.connections).toEqual([tokenOf(declared, "ops-bot"), tokenOf(rotated, "ops-bot")]);
    for (const entry of await ledgerEntries()) {
      expect(entry.state).toMatchObject({ phase: LedgerPhase.Idle, retiring: undefined });
      expect(entry.state.current?.tokenId).toBe(tokenOf(rotated, entry.declaration.name as TokenName));
    }
  });

  it("refuses each revoked old token with 401, over HTTP and on a WebSocket upgrade", async () => {
    const dashboardOld = declared.get("dashboard")!.value;
    const botOld = declared.get("ops-bot")!.value;

    const models = await probe(front.url, LIST_MODELS, dashboardOld);
    const invoke = await probe(front.url, INVOKE_TOOL, botOld);

    expect(models.status).toBe(401);
    expect(((await models.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    expect(invoke.status).toBe(401);
    expect(await upgradeStatus(front.url, botOld)).toBe(401);
    // The new ones are served.
    const fresh = await probe(front.url, LIST_MODELS, rotated.get("dashboard")!.value);
    expect(fresh.status).toBe(200);
    expect(await upgradeStatus(front.url, rotated.get("ops-bot")!.value)).toBe(101);
  });

  it("attributes the traffic per consumer in the front's request log, on the old and on the new token", async () => {
    type Seen = { consumer: string; source: string; requests: number; lastStatus: number };
    for (const token of TOKENS) {
      const expected = consumers
        .filter((c) => c.token === token.name)
        .map(({ consumer }) => ({ consumer: consumer.identity, source: "header", lastStatus: consumer instanceof OperatorConsumer ? 101 : 200 }));
      for (const [held, probeStatus] of [[declared.get(token.name)!, 401], [rotated.get(token.name)!, token.name === "dashboard" ? 200 : 101]] as const) {
        const { consumers: seen } = await admin<{ consumers: Seen[] }>(`/v1/admin/tokens/${held.tokenId}/consumers`);
        // The consumers and this test's probe, nobody else: the provider's and the rotator's own calls are not consumer
        // traffic. The probe's last call with an old token was refused; with a new one, served.
        const want = [...expected, { consumer: PROBE, source: "header", lastStatus: probeStatus }].sort((a, b) => a.consumer.localeCompare(b.consumer));
        expect([...seen].sort((a, b) => a.consumer.localeCompare(b.consumer))).toEqual(want.map((e) => expect.objectContaining(e)));
        for (const s of seen) expect(s.requests).toBeGreaterThan(0);
      }
    }
  });

  it("leaves exactly one live token per declaration on the front: the one in AWSCURRENT", async () => {
    const tokens = await front.listTokens();
    for (const token of TOKENS) {
      const mine = tokens.filter((t) => t.name === token.name || t.name.startsWith(`${token.name}-`));
      expect(mine.filter((t) => t.status === "active").map((t) => t.id)).toEqual([tokenOf(rotated, token.name)]);
      expect(mine.find((t) => t.id === tokenOf(declared, token.name))?.status).toBe("revoked");
    }
  });

  it("pulumi destroy revokes the rotated tokens (refused by the front) and deletes their secrets", async () => {
    await workspace.ok(["destroy", "--yes"]);

    for (const token of TOKENS) {
      const value = rotated.get(token.name)!.value;
      const res = await probe(front.url, token.name === "dashboard" ? LIST_MODELS : INVOKE_TOOL, value);
      expect(res.status).toBe(401);
      expect(await store.describe(SECRET(token.name))).toBeUndefined();
    }
    const live = (await front.listTokens()).filter((t) => t.status === "active" && TOKENS.some((d) => t.name.startsWith(`${d.name}-`) || t.name === d.name));
    expect(live).toEqual([]);
  });

  function consumerToken(consumer: HttpConsumer | OperatorConsumer): TokenName {
    return consumers.find((c) => c.consumer === consumer)!.token;
  }
});

/**
 * The rotator's own credential, as an operator gives it once per environment: `openclaw-tokens bootstrap-rotator` with
 * the front's break-glass admin token for that one command (an admin:tokens token in openclaw-admin/dev/rotator).
 */
async function bootstrapRotatorCredential(front: ReferenceGateway): Promise<void> {
  const env = { ...process.env, OPENCLAW_ADMIN_TOKEN: front.adminToken };
  await promisify(execFile)(process.execPath, [CLI_BUNDLE, "bootstrap-rotator", "--environment", "dev", "--gateway-url", front.url, "--json"], { env });
}

function tokenOf(tokens: ReadonlyMap<TokenName, HeldToken>, name: TokenName): string {
  const held = tokens.get(name);
  if (!held) throw new Error(`no token recorded for ${name}`);
  return held.tokenId;
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(100);
  }
}

/** One of this test's own calls with a consumer token, named as the probe. */
function probe(frontUrl: string, call: ConsumerCall, token: Sensitive): Promise<Response> {
  return fetch(`${frontUrl}${call.path}`, {
    method: call.method,
    headers: {
      authorization: `Bearer ${token.reveal()}`,
      "x-openclaw-consumer": PROBE,
      ...(call.body !== undefined && { "content-type": "application/json" }),
    },
    body: call.body === undefined ? undefined : JSON.stringify(call.body),
  });
}

/** The status the front answers a WebSocket upgrade with this token (101 when it opens the tunnel). */
function upgradeStatus(frontUrl: string, token: Sensitive): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${frontUrl}/`, {
      headers: {
        authorization: `Bearer ${token.reveal()}`,
        "x-openclaw-consumer": PROBE,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": randomBytes(16).toString("base64"),
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}
