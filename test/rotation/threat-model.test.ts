/**
 * The cases an adversarial review reproduced against the tag-based design (issue 9), each as it was reproduced: an
 * attacker with ordinary Secrets Manager rights (tags, values, stages) and faults of a real account. Every test failed
 * on that design. Case 1 (the admin token sent to a URL from tags) is in test/cli/cli.test.ts, case 13 (settings that
 * guarantee expiry) in test/infra/config.test.ts.
 */
import { PutSecretValueCommand, SecretsManagerClient, TagResourceCommand, UpdateSecretVersionStageCommand } from "@aws-sdk/client-secrets-manager";
import { Sensitive } from "../../src/domain/sensitive";
import { GatewayBackend } from "../../src/gateway/backend";
import { GatewayError } from "../../src/gateway/errors";
import { FencedEntry } from "../../src/ledger/fenced-entry";
import { LedgerPhase } from "../../src/ledger/ledger";
import { createProviderRuntime } from "../../src/provider/runtime";
import { Boundary, Metric } from "../../src/rotation/observability";
import { serialiseRecord } from "../../src/store/record";
import { Stage, TokenStore } from "../../src/store/token-store";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { DAY, LEASE_EXPIRY, Recorder, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(60_000);

describe("the threat model's reproduced cases", () => {
  let h: RotationHarness;
  let sm: SecretsManagerClient;
  beforeAll(async () => {
    h = await RotationHarness.start();
    sm = new SecretsManagerClient({});
  });
  afterAll(async () => {
    sm?.destroy();
    await h?.stop();
  });
  beforeEach(() => h.reset());

  const name = (token: string) => h.secretName(token);
  const idOf = async (token: string) => (await h.admin.whoami(await h.current(token))).id;
  const tag = (token: string, tags: Record<string, string>) =>
    sm.send(new TagResourceCommand({ SecretId: name(token), Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  const activeTokens = async (prefix: string) => (await h.gatewayTokens(prefix)).filter((t) => t.status === "active").map((t) => t.id);

  /** Runs scheduled runs, with a consumer on whatever is current, until the token is idle again. */
  async function rotateToCompletion(token: string): Promise<void> {
    for (let run = 0; run < 8; run++) {
      await h.engine().runScheduled();
      if ((await h.entry(token)).state.phase === LedgerPhase.Idle && (await h.entry(token)).state.lastRotatedAt) return;
      expect(await h.consume(await h.current(token))).toBe(201);
      await h.advance(11 * 60_000);
    }
    throw new Error(`${token} did not settle`);
  }

  it("2. forged retiring-token and mint-name tags make the rotator revoke nothing but its own old token", async () => {
    await h.declare({ name: "victim" }, { name: "ci-runner" });
    const victim = await h.current("victim");
    const adminId = (await h.admin.whoami(new Sensitive(h.gateway.adminToken))).id;
    const victimId = await idOf("victim");
    const victimName = (await h.entry("victim")).state.current!.gatewayName;
    const ownId = await idOf("ci-runner");
    // The old design read all of these from tags.
    await tag("ci-runner", {
      "openclaw:retiring-token-id": victimId,
      "openclaw:promoted-at": new Date(0).toISOString(),
      "openclaw:retiring-expires-at": new Date(0).toISOString(),
      "openclaw:rotation-id": "00000000-0000-4000-8000-000000000000",
      "openclaw:rotation-mint-name": victimName,
      "openclaw:token-id": adminId,
    });
    await h.advance(25 * DAY);

    await rotateToCompletion("ci-runner");

    expect(await h.accepted(victim)).toBe(true);
    expect(await h.accepted(new Sensitive(h.gateway.adminToken))).toBe(true);
    expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
    expect((await h.gatewayTokens("ci-runner")).find((t) => t.id === ownId)?.status).toBe("revoked");
  });

  it("2b. a ledger entry whose retiring token the gateway names differently is not revoked (the gateway is a second witness)", async () => {
    await h.declare({ name: "victim" }, { name: "ci-runner" });
    const victim = await h.current("victim");
    await h.advance(25 * DAY);
    await h.engine().runScheduled(); // ci-runner draining
    const entry = await h.entry("ci-runner");
    // Simulate a ledger that disagrees with the gateway (a bug, or a restore from an old backup).
    await h.ledger.writeState(entry, { ...entry.state, retiring: { ...entry.state.retiring!, tokenId: await idOf("victim") } }, undefined);
    await h.consume(await h.current("ci-runner"));
    await h.advance(11 * 60_000);
    const recorder = new Recorder();

    const { outcomes } = await h.engine({}, recorder).runScheduled();

    expect(outcomes[name("ci-runner")]).toBe("bad-state");
    expect(recorder.lines.some((l) => /is named victim-.*, not ci-runner-.* as recorded; it was not revoked/.test(l.message))).toBe(true);
    expect(await h.accepted(victim)).toBe(true);
  });

  it("3. a stored record rewritten with admin:* scopes does not escalate: the mint takes the declared scopes", async () => {
    await h.declare({ name: "ci-runner", scopes: ["run:jobs"] });
    const current = (await h.store.read(name("ci-runner"), Stage.Current))!;
    await sm.send(new PutSecretValueCommand({ SecretId: name("ci-runner"), SecretString: serialiseRecord({ ...current, scopes: ["admin:*"] }) }));
    await h.advance(25 * DAY);

    await h.engine().runScheduled();

    expect((await h.admin.whoami(await h.current("ci-runner"))).scopes).toEqual(["run:jobs"]);
  });

  it("3b. a declaration that breaks the least-privilege rules is refused at mint time, not only at pulumi up", async () => {
    await h.declare({ name: "ci-runner", scopes: ["run:jobs"] });
    const entry = await h.entry("ci-runner");
    await h.ledger.writeAll(entry, { ...entry.declaration, scopes: ["admin:*", "run:jobs"] }, entry.state, undefined);
    await h.advance(25 * DAY);
    const before = await h.gatewayTokens("ci-runner");
    const recorder = new Recorder();

    const { outcomes } = await h.engine({}, recorder).runScheduled();

    expect(outcomes[name("ci-runner")]).toBe("bad-state");
    expect(recorder.lines.some((l) => /may not be minted: .*CI token/.test(l.message))).toBe(true);
    expect(await h.gatewayTokens("ci-runner")).toHaveLength(before.length);
  });

  it("4. forged issued-at / expires-at tags do not postpone the rotation", async () => {
    await h.declare({ name: "ci-runner" });
    const far = new Date(Date.now() + 365 * DAY).toISOString();
    await tag("ci-runner", { "openclaw:issued-at": far, "openclaw:expires-at": far, "openclaw:ttl-seconds": String(10 * 365 * 86400) });
    await h.advance(25 * DAY);

    expect((await h.engine().runScheduled()).outcomes[name("ci-runner")]).toBe("waiting");
    expect((await h.entry("ci-runner")).state.phase).toBe(LedgerPhase.Draining);
  });

  it("5. Secrets Manager's rotation steps work with the secret's ARN as SecretId, as AWS sends it", async () => {
    await h.declare({ name: "ci-runner" });
    const arn = (await h.store.describe(name("ci-runner")))!.arn;
    const token = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    for (const step of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) {
      await h.engine().handleSecretsManagerStep(step, arn, token);
    }
    expect((await h.store.describe(name("ci-runner")))?.stages.AWSCURRENT).toBe(token);
    // The same ledger entry (same key) as a scheduled run's: it is draining there.
    expect((await h.entry("ci-runner")).state).toMatchObject({ phase: LedgerPhase.Draining, current: { versionId: token } });
  });

  it("6. a failed clean-up inside an abort wedges nothing: AWS's immutable versions are never reused", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    // The staged token is refused at verification (revoked behind the rotator's back), and the abort's clean-up of
    // AWSPENDING is throttled.
    const throttled: TokenStore = Object.create(h.store);
    throttled.removeStage = () => Promise.reject(Object.assign(new Error("ThrottlingException: rate exceeded"), { name: "ThrottlingException" }));
    const revokeStaged = {
      checkpoint: async (b: Boundary) => {
        if (b === Boundary.Staged) await h.admin.revoke((await h.entry("ci-runner")).state.pending!.tokenId);
      },
    };
    expect((await h.engine({ store: throttled, observer: revokeStaged }).runScheduled()).outcomes[name("ci-runner")]).toBe("bad-state");

    await h.advance(60_000);
    await rotateToCompletion("ci-runner");

    expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
    expect(await activeTokens("ci-runner")).toEqual([await idOf("ci-runner")]);
  });

  it("7. a retiring token the gateway has forgotten ends the drain instead of blocking every later rotation", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    await h.engine().runScheduled();
    const retiringId = (await h.entry("ci-runner")).state.retiring!.tokenId;
    // The gateway was restored from a backup that predates the old token: it answers 404 for it.
    const forgetful: GatewayBackend = Object.create(h.admin);
    forgetful.traffic = (tokenId, since) =>
      tokenId === retiringId
        ? Promise.reject(new GatewayError("not_found", { method: "GET", endpoint: `/v1/admin/tokens/${tokenId}/requests`, gatewayUrl: h.gateway.url }, "unknown token", { status: 404 }))
        : h.admin.traffic(tokenId, since);
    await h.consume(await h.current("ci-runner"));
    await h.advance(11 * 60_000);

    expect((await h.engine({ backend: forgetful }).runScheduled()).outcomes[name("ci-runner")]).toBe("completed");
    await h.advance(25 * DAY);
    expect((await h.engine({ backend: forgetful }).runScheduled()).outcomes[name("ci-runner")]).toBe("waiting");
  });

  it("8. the leak response during a scheduled run's mint leaves no live token that nothing records", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    // The scheduled run's mint lands only after the leak response has finished; then the run dies.
    const slowMint: GatewayBackend = Object.create(h.admin);
    slowMint.mint = async (request) => {
      await h.engine().emergencyRevoke(name("ci-runner"));
      return h.admin.mint(request);
    };
    const dies = { checkpoint: (b: Boundary) => { if (b === Boundary.Minted) throw new Error("killed"); } };
    await h.engine({ backend: slowMint, observer: dies }).runScheduled();
    expect((await activeTokens("ci-runner")).length).toBe(2); // the replacement, and the late mint

    // Any later run sweeps the abandoned mint name.
    await h.advance(LEASE_EXPIRY);
    await h.engine().runScheduled();

    expect(await activeTokens("ci-runner")).toEqual([await idOf("ci-runner")]);
    expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
  });

  it("9. pulumi up changing scopes during a drain keeps the ledger, the stages and the gateway in agreement", async () => {
    await h.declare({ name: "app", scopes: ["run:jobs"] });
    const first = await h.current("app");
    await h.advance(25 * DAY);
    await h.engine().runScheduled(); // draining: first is retiring
    const second = await h.current("app");
    const runtime = createProviderRuntime({
      backend: (inputs) => new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: "dev", adminToken: new Sensitive(inputs.adminToken), userAgent: "openclaw-token-ops/0.1 (provider)" }),
      store: () => h.store,
      ledger: () => h.ledger,
      clock: h.clock,
    });
    const news = (await runtime.check({}, { name: "app", scopes: ["run:jobs", "read:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 })).inputs!;

    const { outs } = await runtime.update(name("app"), { ...news, scopes: ["run:jobs"], tokenStatus: "active" } as never, news as never);

    const entry = await h.entry("app");
    const secret = await h.store.describe(name("app"));
    expect(entry.state).toMatchObject({ phase: LedgerPhase.Draining, current: { tokenId: outs!.tokenId }, retiring: { tokenId: (await h.admin.whoami(second)).id } });
    expect(secret?.stages.AWSCURRENT).toBe(entry.state.current!.versionId);
    expect(await h.accepted(first)).toBe(false); // two generations old: revoked, not left untracked
    expect((await h.admin.whoami(await h.current("app"))).scopes).toEqual(["read:jobs", "run:jobs"]);
    expect((await activeTokens("app")).sort()).toEqual([entry.state.current!.tokenId, entry.state.retiring!.tokenId].sort());
  });

  it("9b. pulumi up waits for a rotator step that holds the token rather than writing over it", async () => {
    await h.declare({ name: "app" });
    const held = await FencedEntry.acquire(h.ledger, name("app"), { owner: "rotator-step", clock: h.clock, ttlMs: 600_000 });
    expect(held.kind).toBe("acquired");
    const runtime = createProviderRuntime({
      backend: () => h.admin,
      store: () => h.store,
      ledger: () => h.ledger,
      clock: h.clock,
      leaseWaitMs: 100,
    });
    const news = (await runtime.check({}, { name: "app", scopes: ["run:jobs"], ttl: "60d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 })).inputs!;

    await expect(runtime.update(name("app"), { ...news, ttl: "30d", tokenStatus: "active" } as never, news as never)).rejects.toMatchObject({ code: "rotate_busy" });
    expect((await h.entry("app")).declaration.ttlSeconds).toBe(30 * 86400);
  });

  it("10. no false alarm after a crash between revoking the old token and recording it", async () => {
    await h.declare({ name: "ci-runner" });
    const old = await h.current("ci-runner");
    await h.advance(25 * DAY);
    await h.engine().runScheduled();
    await h.consume(await h.current("ci-runner"));
    await h.advance(11 * 60_000);
    const dies = { checkpoint: (b: Boundary) => { if (b === Boundary.OldRevoked) throw new Error("killed"); } };
    await h.engine({ observer: dies }).runScheduled();
    // A stale consumer keeps trying the revoked token: 401s under the old token.
    expect(await h.consume(old)).toBe(401);
    await h.advance(LEASE_EXPIRY);
    const recorder = new Recorder();

    const { outcomes } = await h.engine({}, recorder).runScheduled();

    expect(outcomes[name("ci-runner")]).toBe("completed");
    expect(recorder.counts[Metric.ConsumersStillOnOldToken]).toBeUndefined();
  });

  it("11. an operator whose clock runs 11 minutes ahead cannot take a live scheduled run's lease", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    const held = await FencedEntry.acquire(h.ledger, name("ci-runner"), { owner: "lambda", clock: h.clock, ttlMs: 600_000 });
    expect(held.kind).toBe("acquired");
    const laptop = { now: () => new Date(h.clock.now().getTime() + 11 * 60_000) };

    expect(await h.engine({ clock: laptop }).rotateNow(name("ci-runner"))).toBe("busy");
    expect((await h.entry("ci-runner")).state.phase).toBe(LedgerPhase.Idle);
  });

  it("12. a provider killed between its mint and CreateSecret leaves no live token that nothing records", async () => {
    const hangs: TokenStore = Object.create(h.store);
    hangs.create = () => new Promise(() => undefined); // the process is killed here: nothing after this runs
    const dying = createProviderRuntime({ backend: () => h.admin, store: () => hangs, ledger: () => h.ledger, clock: h.clock });
    const raw = { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 };
    const inputs = (await dying.check({}, raw)).inputs!;
    void dying.create(inputs);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await activeTokens("ci-runner")).toHaveLength(1); // minted, in no secret

    // The rotator, once the provider's lease is long expired, revokes what the recorded mint name minted.
    await h.advance(LEASE_EXPIRY);
    await h.engine().runScheduled();
    expect(await activeTokens("ci-runner")).toHaveLength(0);

    // The next pulumi up finishes the create.
    const runtime = createProviderRuntime({ backend: () => h.admin, store: () => h.store, ledger: () => h.ledger, clock: h.clock });
    await runtime.create(inputs);
    expect(await activeTokens("ci-runner")).toEqual([await idOf("ci-runner")]);
    expect((await h.entry("ci-runner")).state.phase).toBe(LedgerPhase.Idle);
  });

  it("12b. the next pulumi up after such a crash revokes the leftover itself when the rotator has not run", async () => {
    const hangs: TokenStore = Object.create(h.store);
    hangs.create = () => new Promise(() => undefined);
    const raw = { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 };
    const dying = createProviderRuntime({ backend: () => h.admin, store: () => hangs, ledger: () => h.ledger, clock: h.clock });
    const inputs = (await dying.check({}, raw)).inputs!;
    void dying.create(inputs);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const leftover = await activeTokens("ci-runner");

    await createProviderRuntime({ backend: () => h.admin, store: () => h.store, ledger: () => h.ledger, clock: h.clock }).create(inputs);

    expect((await h.gatewayTokens("ci-runner")).find((t) => t.id === leftover[0])?.status).toBe("revoked");
    expect(await activeTokens("ci-runner")).toEqual([await idOf("ci-runner")]);
  });

  it("pulumi up repairing an expired token leaves nothing to drain and raises no false alarm", async () => {
    const runtime = createProviderRuntime({ backend: () => h.admin, store: () => h.store, ledger: () => h.ledger, clock: h.clock });
    const inputs = (await runtime.check({}, { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 })).inputs!;
    const outs = (await runtime.create(inputs)).outs!;
    await h.advance(31 * DAY); // the rotator never ran: the token expired
    const drifted = (await runtime.read(outs.secretName, outs)).props!;
    expect(drifted.tokenStatus).toBe("expired");

    await runtime.update(outs.secretName, drifted, inputs);

    expect((await h.entry("ci-runner")).state).toMatchObject({ phase: LedgerPhase.Idle, retiring: undefined });
    expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
    await h.advance(16 * 60_000);
    const recorder = new Recorder();
    await h.engine({}, recorder).runScheduled();
    expect(recorder.counts[Metric.ConsumersStillOnOldToken]).toBeUndefined();
    expect(recorder.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("moves AWSCURRENT back to the recorded token when someone moved it to another version", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    await rotateToCompletion("ci-runner");
    const secret = (await h.store.describe(name("ci-runner")))!;
    // Someone moves AWSCURRENT back to the revoked old version.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name("ci-runner"), VersionStage: "AWSCURRENT", MoveToVersionId: secret.stages.AWSPREVIOUS, RemoveFromVersionId: secret.stages.AWSCURRENT }));
    await h.advance(25 * DAY);

    await rotateToCompletion("ci-runner");

    expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
    expect((await h.store.describe(name("ci-runner")))?.stages.AWSCURRENT).toBe((await h.entry("ci-runner")).state.current?.versionId);
  });
});
