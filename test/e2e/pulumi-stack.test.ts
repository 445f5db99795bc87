/**
 * GatewayToken through the real Pulumi engine: the project's own program (infra/), a local file backend, moto for
 * Secrets Manager and the reference gateway. Steps run in order and share one stack.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Sensitive } from "../../src/domain/sensitive";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { RotationEngine } from "../../src/rotation/engine";
import { noMetrics, silentLogger } from "../../src/rotation/observability";
import { DEFAULT_SETTINGS } from "../../src/rotation/settings";
import { systemClock } from "../../src/domain/clock";
import { ownUserAgent } from "../../src/gateway/backend";
import { ledgerTableName } from "../../src/store/metadata";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { Stage } from "../../src/store/token-store";
import { MotoServer, startMoto } from "../support/moto";
import { PulumiWorkspace } from "../support/pulumi";
import { ReferenceGateway, startReferenceGateway } from "../support/reference-gateway";

jest.setTimeout(300_000);

const TOKENS = [
  { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d", recoveryWindowDays: 0 },
  { name: "app-backend", scopes: ["run:jobs", "read:jobs"], ttl: "90d", recoveryWindowDays: 0 },
  { name: "dashboard", scopes: ["read:agents"], ttl: "90d", recoveryWindowDays: 0 },
];
const SECRET = (name: string) => `openclaw/dev/${name}`;

describe("GatewayToken stack on the real Pulumi engine", () => {
  let moto: MotoServer;
  let gateway: ReferenceGateway;
  let workspace: PulumiWorkspace;
  let store: SecretsManagerTokenStore;
  let ledger: DynamoDbLedger;
  let observer: DocumentedApiGateway;
  /** Every token value this test saw, to prove none of them reaches state or engine output. */
  const seenValues = new Set<string>();
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    [moto, gateway] = await Promise.all([startMoto(), startReferenceGateway({ environment: "dev" })]);
    Object.assign(process.env, moto.env);
    store = new SecretsManagerTokenStore({ environment: "dev" });
    // What the environment has before any stack runs (the rotator's deployment creates it in AWS): the ledger table.
    ledger = new DynamoDbLedger({ tableName: ledgerTableName("dev"), environment: "dev" });
    await ledger.ensureTable();
    observer = new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive(gateway.adminToken), userAgent: "e2e-observer" });
    seenValues.add(gateway.adminToken);
    workspace = new PulumiWorkspace("e2e", moto.env);
    await workspace.init();
    salt = /encryptionsalt: (\S+)/.exec(readFileSync(workspace.configFile, "utf8"))?.[1];
    await writeConfig(TOKENS);
  });
  afterAll(async () => {
    process.env = savedEnv;
    await Promise.all([moto?.stop(), gateway?.stop()]);
    workspace?.dispose();
  });

  /** The passphrase salt `stack init` wrote; every rewrite of the config file keeps it. */
  let salt: string | undefined;

  /**
   * Writes the stack's config (JSON is YAML) as a team would edit Pulumi.<stack>.yaml, then sets the admin token
   * the only right way, as an encrypted secret through stdin.
   */
  async function writeConfig(tokens: readonly object[]): Promise<void> {
    const config = { "openclaw:environment": "dev", "openclaw:gatewayUrl": gateway.url, "openclaw:tokens": tokens };
    writeFileSync(workspace.configFile, JSON.stringify({ ...(salt ? { encryptionsalt: salt } : {}), config }, null, 2));
    await workspace.ok(["config", "set", "--secret", "openclaw:adminToken"], { stdin: gateway.adminToken });
  }

  async function current(name: string): Promise<Sensitive> {
    const record = await store.read(SECRET(name), Stage.Current);
    if (!record) throw new Error(`no AWSCURRENT for ${name}`);
    seenValues.add(record.token.reveal());
    return record.token;
  }
  const accepted = (value: Sensitive) => observer.whoami(value).then(() => true, () => false);

  it("pulumi up mints three live tokens and stores each in its own secret", async () => {
    await workspace.ok(["up", "--yes", "--skip-preview"]);
    for (const token of TOKENS) {
      const who = await observer.whoami(await current(token.name));
      expect(who.scopes).toEqual([...token.scopes].sort());
      expect((await store.describe(SECRET(token.name)))?.stages.AWSCURRENT).toBeDefined();
    }
  });

  it("pulumi up again changes nothing", async () => {
    await workspace.ok(["up", "--yes", "--expect-no-changes"]);
  });

  it("pulumi refresh finds nothing to change", async () => {
    await workspace.ok(["refresh", "--yes", "--expect-no-changes"]);
  });

  it("a rotation done outside Pulumi is neither shown as a change nor rolled back", async () => {
    // Prepare: the rotator's work: a new token becomes AWSCURRENT, recorded in the ledger.
    const before = await current("ci-runner");
    const backend = new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive(gateway.adminToken), userAgent: ownUserAgent("rotator") });
    const settings = { ...DEFAULT_SETTINGS, environment: "dev" as const, gatewayUrl: gateway.url, backend: "documented-api" as const };
    await new RotationEngine({ store, backend, ledger, clock: systemClock, settings, log: silentLogger, metrics: noMetrics }).rotateNow(SECRET("ci-runner"));
    const rotated = { value: await current("ci-runner") };
    expect(rotated.value.reveal()).not.toBe(before.reveal());
    // Act
    await workspace.ok(["refresh", "--yes", "--expect-no-changes"]);
    await workspace.ok(["up", "--yes", "--expect-no-changes"]);
    // Assess
    expect((await current("ci-runner")).reveal()).toBe(rotated.value.reveal());
  });

  it("a token revoked out of band is drift for refresh, and the next up repairs it", async () => {
    const revokedValue = await current("app-backend");
    const tokenId = (await observer.whoami(revokedValue)).id;
    await observer.revoke(tokenId);

    const refresh = await workspace.run(["refresh", "--yes", "--expect-no-changes"]);
    expect(refresh.code).not.toBe(0);
    expect(refresh.stdout).toMatch(/app-backend/);

    await workspace.ok(["up", "--yes"]);
    const repaired = await current("app-backend");
    expect(await accepted(repaired)).toBe(true);
    expect((await observer.whoami(repaired)).id).not.toBe(tokenId);
  });

  it("a scope change mints a token with the new scopes and keeps the old one valid", async () => {
    const oldValue = await current("dashboard");
    await writeConfig(TOKENS.map((t) => (t.name === "dashboard" ? { ...t, scopes: ["read:agents", "read:jobs"] } : t)));

    const up = await workspace.ok(["up", "--yes"]);

    expect(up.stdout).toMatch(/1 updated/);
    const newValue = await current("dashboard");
    expect((await observer.whoami(newValue)).scopes).toEqual(["read:agents", "read:jobs"]);
    expect(await accepted(oldValue)).toBe(true);
  });

  it("a bad declaration is refused at preview, naming the key, and nothing is created", async () => {
    const before = (await observer.findByName("ci-runner")).length;
    await writeConfig([...TOKENS, { name: "new-token", scopes: ["run:job"], ttl: "30d" }, { name: "broken", scopes: ["admin:*"], ttl: "0d" }]);

    const up = await workspace.run(["up", "--yes"]);

    await writeConfig(TOKENS.map((t) => (t.name === "dashboard" ? { ...t, scopes: ["read:agents", "read:jobs"] } : t)));
    expect(up.code).not.toBe(0);
    const output = up.stdout + up.stderr;
    expect(output).toContain('openclaw:tokens[3].scopes[0]: "run:job" is not a scope');
    expect(output).toContain("openclaw:tokens[4].scopes: admin:* is full control");
    expect(output).toContain('openclaw:tokens[4].ttl: "0d" is not a duration');
    expect(await store.describe(SECRET("new-token"))).toBeUndefined();
    expect((await observer.findByName("ci-runner")).length).toBe(before);
  });

  it("pulumi destroy revokes every token and deletes the secrets", async () => {
    const values = await Promise.all(TOKENS.map((t) => current(t.name)));
    const exported = await workspace.ok(["stack", "export", "--stack", workspace.stack], { stackScoped: false });
    await workspace.ok(["destroy", "--yes"]);

    for (const value of values) expect(await accepted(value)).toBe(false);
    for (const token of TOKENS) expect(await store.describe(SECRET(token.name))).toBeUndefined();
    // Assess, once more: no token value in the exported state.
    for (const value of seenValues) expect(exported.stdout).not.toContain(value);
  });

  it("never wrote a token value into state, the backend's files or the engine's output", () => {
    expect(seenValues.size).toBeGreaterThanOrEqual(TOKENS.length + 3);
    const files = listFiles(join(workspace.dir, "backend"));
    expect(files.length).toBeGreaterThan(0);
    const stateText = files.map((f) => readFileSync(f, "utf8")).join("\n") + readFileSync(workspace.configFile, "utf8");
    for (const value of seenValues) {
      expect(stateText).not.toContain(value);
      expect(workspace.transcript).not.toContain(value);
    }
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}
