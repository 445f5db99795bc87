import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Sensitive } from "../../src/domain/sensitive";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { LedgerPhase } from "../../src/ledger/ledger";
import { createProviderRuntime, declarationOf } from "../../src/provider/runtime";
import { rotatorCredentialSecretName } from "../../src/store/metadata";
import { Stage } from "../../src/store/token-store";
import { runCli } from "../cli/run-cli";
import { DAY, LEASE_EXPIRY, LEDGER_TABLE, RotationHarness } from "../support/rotation-harness";
import { rotatorCredentialInputs } from "../../cli/commands/bootstrap-rotator";
import { newIntent } from "../../src/rotation/steps";
import { runBundledRotator, RotatorRun } from "../support/run-rotator";

/**
 * Issue 12 part 4: the rotator's own credential is an admin:tokens token with a 7-day TTL, created once by a human with
 * the break-glass admin:* token (`bootstrap-rotator`), then rotated by the bundled rotator like any other token: mint the
 * successor with the current one, promote it, revoke the old one once no run can hold it. Several cycles on the local
 * stack (moto + the reference gateway), with the rotator's own runs rotating a declared token in between: no run fails,
 * the break-glass token is never used by the product after the bootstrap, and no deployment secret holds an admin token.
 */
const CREDENTIAL = rotatorCredentialSecretName("dev");
const HOUR = 3600_000;
/** Neither the rotator's nor the provider's User-Agent: the test's own checks are told apart from the product's. */
const CHECKER_UA = "credential-test/1.0";

let h: RotationHarness;
let checker: DocumentedApiGateway;
let runs: RotatorRun[];

beforeAll(async () => {
  h = await RotationHarness.start();
}, 120_000);
afterAll(() => h?.stop());

beforeEach(async () => {
  await h.reset();
  runs = [];
  checker = new DocumentedApiGateway({ url: h.gateway.url, environment: "dev", adminToken: new Sensitive(h.gateway.adminToken), userAgent: CHECKER_UA });
  // The harness stores the admin:* token where an older rotator read it; a self-rotating deployment has no such secret.
  await h.dropAdminSecret();
}, 60_000);

/** A scheduled run of the bundled Lambda as a self-rotating deployment configures it: no admin secret named. */
async function scheduledRun(): Promise<RotatorRun> {
  const run = await runBundledRotator(h, { env: { OPENCLAW_ADMIN_SECRET_ID: "" } });
  runs.push(run);
  return run;
}

function bootstrap(env: Record<string, string> = { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken }) {
  return runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], { env: { ...env, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) } });
}

/** The provider as `pulumi up` runs it, for a declaration without adminToken: it mints with the rotator credential. */
async function declareWithoutAdminToken(name: string): Promise<void> {
  const runtime = createProviderRuntime({
    backend: (inputs) => new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: "dev", adminToken: new Sensitive(inputs.adminToken), userAgent: "openclaw-token-ops/0.1 (provider)" }),
    store: () => h.store,
    ledger: () => h.ledger,
    clock: h.clock,
  });
  const checked = await runtime.check({}, { name, scopes: ["run:jobs"], ttl: "10d", environment: "dev", gatewayUrl: h.gateway.url, recoveryWindowDays: 0 });
  expect(checked.failures ?? []).toEqual([]);
  const created = await runtime.create(checked.inputs);
  // Nothing of the credential reaches state.
  expect(Object.keys(created.outs)).not.toContain("adminToken");
}

async function credentialEntry() {
  const entry = await h.ledger.get(CREDENTIAL);
  if (!entry) throw new Error("no ledger entry for the rotator credential");
  return entry;
}

/** Every token the gateway holds under the credential's name (each mint is named openclaw-rotator-<stamp>), by status. */
async function credentialTokens(): Promise<Array<{ id: string; status: string; scopes: readonly string[] }>> {
  const minted = await Promise.all((await h.gatewayTokens("openclaw-rotator")).map((t) => checker.describe(t.id)));
  return minted.filter((t) => t !== undefined).map((t) => ({ id: t.id, status: t.status, scopes: t.scopes }));
}

/** A consumer of the declared token: re-reads AWSCURRENT each call, as a service with a short cache does. */
async function consumeDeclared(): Promise<number> {
  const record = await h.store.read(h.secretName("billing-svc"), Stage.Current);
  return h.consume(record?.token as Sensitive, "billing-svc-1");
}

describe("the rotator's own credential", () => {
  it("is bootstrapped once with the break-glass token, then rotates itself for several cycles with zero failed runs", async () => {
    const bootstrapped = await bootstrap();
    expect(bootstrapped.stderr).toBe("");
    expect(bootstrapped.code).toBe(0);
    const first = JSON.parse(bootstrapped.stdout) as { outcome: string; secretName: string; tokenId: string; scopes: string[]; expiresAt: string };
    expect(first).toMatchObject({ outcome: "created", secretName: CREDENTIAL, scopes: ["admin:tokens"] });
    expect(Date.parse(first.expiresAt) - h.clock.now().getTime()).toBeGreaterThan(7 * DAY - HOUR);
    expect(Date.parse(first.expiresAt) - h.clock.now().getTime()).toBeLessThanOrEqual(7 * DAY);
    // A second bootstrap while it works changes nothing.
    const again = await bootstrap();
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: "in-place", tokenId: first.tokenId });
    const bootstrapEnded = new Date(h.clock.now().getTime() + 1000);

    await declareWithoutAdminToken("billing-svc");
    expect(await consumeDeclared()).toBe(201);

    const credentialIds = [first.tokenId];
    const declaredIds = [(await h.entry("billing-svc")).state.current?.tokenId];
    // 19 days of scheduled runs: every 12 hours while all is at rest, every 20 minutes while a rotation is under way,
    // with the consumer calling between runs. The credential (7d, rotated at 80%) turns over three times.
    const end = h.clock.now().getTime() + 19 * DAY;
    while (h.clock.now().getTime() < end) {
      expect((await scheduledRun()).code).toBe(0);
      expect(await consumeDeclared()).toBe(201);
      const [credential, declared] = [await credentialEntry(), await h.entry("billing-svc")];
      const atRest = credential.state.phase === LedgerPhase.Idle && declared.state.phase === LedgerPhase.Idle;
      if (credential.state.phase === LedgerPhase.Idle && credential.state.current?.tokenId !== credentialIds.at(-1)) {
        const current = credential.state.current?.tokenId as string;
        credentialIds.push(current);
        // Exactly one live credential, token management alone; every earlier one revoked.
        const tokens = await credentialTokens();
        expect(tokens.filter((t) => t.status === "active")).toEqual([{ id: current, status: "active", scopes: ["admin:tokens"] }]);
        for (const old of credentialIds.slice(0, -1)) expect(tokens.find((t) => t.id === old)?.status).toBe("revoked");
      }
      if (declared.state.phase === LedgerPhase.Idle && declared.state.current?.tokenId !== declaredIds.at(-1)) declaredIds.push(declared.state.current?.tokenId);
      await h.advance(atRest ? 12 * HOUR : 20 * 60_000);
    }
    expect(credentialIds.length).toBe(4);
    // The declared token rotated too (10d TTL: at least once in the 19 days), with the credential that was current.
    expect(declaredIds.length).toBeGreaterThanOrEqual(2);
    // Zero failed runs: every process exited 0 and no token's outcome was a failure.
    const outcomes = runs.flatMap((r, i) => Object.entries((r.result.outcomes ?? {}) as Record<string, string>).map(([token, outcome]) => ({ run: i, token, outcome })));
    expect(outcomes.filter((o) => ["failed", "bad-state", "consumers-still-on-old-token"].includes(o.outcome))).toEqual([]);
    expect(runs.map((r) => r.code).filter((c) => c !== 0)).toEqual([]);

    // The break-glass token did nothing for the product after the bootstrap: the rotator and the provider used the
    // credential only (the gateway's request log of the admin token, by User-Agent).
    const adminId = (await checker.whoami(new Sensitive(h.gateway.adminToken))).id;
    const productCalls = (await checker.traffic(adminId, bootstrapEnded)).filter((r) => /openclaw-token-ops/.test(r.userAgent ?? ""));
    expect(productCalls).toEqual([]);

    // The operator's CLI works with the credential too (status --live asks the gateway), with no admin secret given.
    const status = await runCli(h, ["status", "--live", "--json"], { env: { OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) } });
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
  }, 300_000);

  it("refuses a value planted in its secret, and bootstrap replaces a credential that no longer works", async () => {
    expect((await bootstrap()).code).toBe(0);
    const before = (await credentialEntry()).state.current?.tokenId as string;
    // Someone with write access to the secret puts another (valid!) admin token there: never presented; the run goes on
    // with the version the ledger records (review 12: a refusal there stopped every rotation of the environment).
    const client = new SecretsManagerClient({});
    const planted = JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: CREDENTIAL }))).SecretString as string) as Record<string, unknown>;
    await client.send(new PutSecretValueCommand({ SecretId: CREDENTIAL, SecretString: JSON.stringify({ ...planted, token: h.gateway.adminToken }) }));
    client.destroy();
    const adminId = (await checker.whoami(new Sensitive(h.gateway.adminToken))).id;
    const plantedAt = h.clock.now();
    const unaffected = await scheduledRun();
    expect(unaffected.code).toBe(0);
    expect(unaffected.stdout + unaffected.stderr).not.toContain(h.gateway.adminToken);
    expect((await checker.traffic(adminId, plantedAt)).filter((r) => /openclaw-token-ops/.test(r.userAgent ?? ""))).toEqual([]);

    // The recorded credential is then revoked behind the rotator's back (a leak response by hand, say).
    await checker.revoke(before);
    const replaced = await bootstrap();
    expect(replaced.stderr).toMatch(/the rotator credential does not work \(the gateway refuses it\)/);
    expect(replaced.stderr + replaced.stdout).not.toContain(h.gateway.adminToken);
    expect(replaced.code).toBe(0);
    const out = JSON.parse(replaced.stdout) as { outcome: string; tokenId: string };
    expect(out.outcome).toBe("replaced");
    expect(out.tokenId).not.toBe(before);
    // The run that follows works with the new credential.
    const after = await scheduledRun();
    expect(after.code).toBe(0);
  }, 120_000);

  it("leaked: the break-glass leak response replaces it, the old one is refused, and the next run works", async () => {
    expect((await bootstrap()).code).toBe(0);
    const leaked = (await credentialEntry()).state.current?.tokenId as string;
    const env = { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) };
    const revoked = await runCli(h, ["revoke", "openclaw-rotator", "--emergency", "--json"], { env });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout + revoked.stderr).not.toContain(h.gateway.adminToken);
    const tokens = await credentialTokens();
    expect(tokens.find((t) => t.id === leaked)?.status).toBe("revoked");
    const current = (await credentialEntry()).state.current?.tokenId as string;
    expect(tokens.filter((t) => t.status === "active")).toEqual([{ id: current, status: "active", scopes: ["admin:tokens"] }]);
    const run = await scheduledRun();
    expect(run.code).toBe(0);
  }, 60_000);

  it("a bootstrap that died after minting is finished by the next one, and what it minted is revoked", async () => {
    // The first bootstrap recorded its intent and minted, then its process died: a Creating entry and a live token.
    const inputs = rotatorCredentialInputs({ environment: "dev", gatewayUrl: h.gateway.url, ledgerTable: LEDGER_TABLE, breakGlassToken: h.gateway.adminToken });
    const now = h.clock.now();
    const intent = newIntent("openclaw-rotator", now, "provider");
    await h.ledger.create({
      declaration: declarationOf(inputs),
      state: {
        phase: LedgerPhase.Creating,
        current: undefined,
        pending: undefined,
        retiring: undefined,
        rotation: intent,
        promotedAt: undefined,
        lastRotatedAt: undefined,
        abandonedMints: [],
        revokeNow: [],
        nextCheckAt: now,
        lastError: undefined,
      },
      lease: { owner: "provider-died", renewedAt: new Date(now.getTime() - LEASE_EXPIRY), ttlMs: 60_000 },
    });
    const orphan = await checker.mint({ name: intent.mintName, scopes: ["admin:tokens"], expiresAt: new Date(now.getTime() + DAY) });
    // While its lease could still be live (the other bootstrap may be running), a second one refuses and changes nothing.
    const live = (await h.ledger.get(CREDENTIAL)) as NonNullable<Awaited<ReturnType<typeof h.ledger.get>>>;
    await h.ledger.writeAll(live, live.declaration, live.state, { owner: "provider-running", renewedAt: now, ttlMs: 60_000 });
    const busy = await bootstrap();
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/another bootstrap-rotator is creating openclaw-admin\/dev\/rotator right now/);
    expect((await checker.describe(orphan.metadata.id))?.status).toBe("active");
    const stale = (await h.ledger.get(CREDENTIAL)) as NonNullable<Awaited<ReturnType<typeof h.ledger.get>>>;
    await h.ledger.writeAll(stale, stale.declaration, stale.state, { owner: "provider-died", renewedAt: new Date(now.getTime() - LEASE_EXPIRY), ttlMs: 60_000 });

    const finished = await bootstrap();
    expect(finished.stderr).toBe("");
    expect(JSON.parse(finished.stdout)).toMatchObject({ outcome: "created", scopes: ["admin:tokens"] });
    const current = (await credentialEntry()).state.current?.tokenId as string;
    expect(current).not.toBe(orphan.metadata.id);
    const tokens = await credentialTokens();
    expect(tokens.filter((t) => t.status === "active").map((t) => t.id)).toEqual([current]);
    expect(tokens.find((t) => t.id === orphan.metadata.id)?.status).toBe("revoked");
  }, 60_000);

  it("refuses a bootstrap without the break-glass token, and a declaration that takes the credential's secret", async () => {
    const without = await bootstrap({});
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/OPENCLAW_ADMIN_TOKEN/);
    expect(await h.ledger.get(CREDENTIAL)).toBeUndefined();

    const runtime = createProviderRuntime({ backend: () => checker, store: () => h.store, ledger: () => h.ledger, clock: h.clock });
    const squatter = await runtime.check({}, { name: "billing-svc", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, secretName: CREDENTIAL });
    expect(squatter.failures?.map((f) => f.reason)).toEqual([expect.stringMatching(/reserved for the rotator's own credential/)]);
    // A token declared without adminToken before any bootstrap: a clear error, and nothing created.
    const early = await runtime.check({}, { name: "billing-svc", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url });
    await expect(createProviderRuntime({ backend: () => checker, store: () => h.store, ledger: () => h.ledger, clock: h.clock }).create(early.inputs)).rejects.toThrow(/no rotator credential.*bootstrap-rotator/);
    expect(await h.ledger.get(h.secretName("billing-svc"))).toBeUndefined();
  }, 60_000);
});
