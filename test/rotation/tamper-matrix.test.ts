/**
 * The tamper matrix: for every field that anyone with ordinary Secrets Manager rights can write (each tag this project
 * ever wrote or writes, each field of the stored record), a forged value causes none of the threat model's harms
 * through a full rotation by the rotator, a refresh and an update by the provider, and the operator CLI:
 *   - no credential goes anywhere but the declared gateway (an attacker's server on loopback counts requests);
 *   - no token is revoked but the one the rotation retires (another token's and the admin token stay valid);
 *   - no mint has scopes other than the declaration's;
 *   - the rotation is not postponed, and leaves exactly one live token, recorded in the ledger.
 * The cases are generated from the lists of fields, so a new tag or record field cannot escape the matrix.
 */
import { PutSecretValueCommand, SecretsManagerClient, TagResourceCommand } from "@aws-sdk/client-secrets-manager";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { Sensitive } from "../../src/domain/sensitive";
import { LedgerPhase } from "../../src/ledger/ledger";
import { createProviderRuntime } from "../../src/provider/runtime";
import { Tag } from "../../src/store/metadata";
import { serialiseRecord } from "../../src/store/record";
import { Stage } from "../../src/store/token-store";
import { runCli } from "../cli/run-cli";
import { sampleRecord } from "../support/fixtures";
import { DAY, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(120_000);

/** Tags the tag-based design read (and an attacker can still write), plus whatever Tag names today. */
const LEGACY_TAGS = [
  "openclaw:backend",
  "openclaw:gateway-url",
  "openclaw:token-id",
  "openclaw:issued-at",
  "openclaw:expires-at",
  "openclaw:ttl-seconds",
  "openclaw:rotation-fraction",
  "openclaw:retiring-token-id",
  "openclaw:promoted-at",
  "openclaw:retiring-expires-at",
  "openclaw:rotation-id",
  "openclaw:rotation-mint-name",
  "openclaw:rotation-started-at",
  "openclaw:last-rotated-at",
];
const TAGS = [...new Set([...Object.values(Tag), ...LEGACY_TAGS])];
/** Every field of the record consumers read, from the serialiser itself. */
const RECORD_FIELDS = Object.keys(JSON.parse(serialiseRecord(sampleRecord())) as object);

interface Victims {
  readonly attackerUrl: string;
  readonly victimId: string;
  readonly victimName: string;
  readonly victimValue: string;
  readonly adminId: string;
}

/** The most harmful value of each kind an attacker could write into a field. */
function forgedValues(field: string, v: Victims): string[] {
  if (/url/i.test(field)) return [v.attackerUrl];
  if (/(^|-)id$|tokenId/i.test(field)) return [v.victimId, v.adminId];
  if (/name/i.test(field)) return [v.victimName];
  if (/-at$|At$/.test(field)) return [new Date(Date.now() + 400 * DAY).toISOString(), new Date(0).toISOString()];
  if (/ttl|fraction/i.test(field)) return ["31536000000", "0.0001"];
  if (/environment/i.test(field)) return ["prod"];
  if (/backend/i.test(field)) return ["openclaw-devices"];
  if (/scopes/.test(field)) return ['["admin:*"]'];
  if (/token/.test(field)) return [v.victimValue];
  return ["forged"];
}

describe("tamper matrix", () => {
  let h: RotationHarness;
  let sm: SecretsManagerClient;
  let attacker: Server;
  const received: string[] = [];
  beforeAll(async () => {
    h = await RotationHarness.start();
    sm = new SecretsManagerClient({});
    attacker = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.end("{}");
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    attacker?.close();
    sm?.destroy();
    await h?.stop();
  });
  beforeEach(async () => {
    received.length = 0;
    await h.reset();
  });

  async function setUp(): Promise<Victims & { original: string }> {
    await h.declare({ name: "ci-runner", scopes: ["run:jobs"] }, { name: "victim", scopes: ["read:agents"] });
    const victim = await h.current("victim");
    const who = await h.admin.whoami(victim);
    return {
      attackerUrl: `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`,
      victimId: who.id,
      victimName: who.name,
      victimValue: victim.reveal(),
      adminId: (await h.admin.whoami(new Sensitive(h.gateway.adminToken))).id,
      original: (await h.admin.whoami(await h.current("ci-runner"))).id,
    };
  }

  /** Everything an actor does with the token: a full rotation, a provider refresh and update, the operator CLI. */
  async function exercise(): Promise<void> {
    await h.advance(25 * DAY);
    for (let run = 0; run < 6; run++) {
      await h.engine().runScheduled();
      const { state } = await h.entry("ci-runner");
      if (state.phase === LedgerPhase.Idle && state.lastRotatedAt) break;
      await h.consume(await h.current("ci-runner")).catch(() => 0);
      await h.advance(11 * 60_000);
    }
    const runtime = createProviderRuntime({ backend: () => h.admin, store: () => h.store, ledger: () => h.ledger, clock: h.clock });
    const inputs = (await runtime.check({}, { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 })).inputs!;
    const outs = { ...inputs, secretArn: "", tokenId: "", expiresAt: "", tokenStatus: "active" };
    const { props } = await runtime.read(h.secretName("ci-runner"), outs);
    if (props.tokenStatus !== "active") await runtime.update(h.secretName("ci-runner"), props, inputs);
    for (const args of [["status"], ["verify", "ci-runner"]]) await runCli(h, args);
  }

  async function assertNoHarm(v: Victims & { original: string }): Promise<void> {
    expect(received).toEqual([]);
    expect(await h.accepted(new Sensitive(v.victimValue))).toBe(true);
    expect(await h.accepted(new Sensitive(h.gateway.adminToken))).toBe(true);
    const { state } = await h.entry("ci-runner");
    expect(state.current?.tokenId).not.toBe(v.original);
    const who = await h.admin.whoami(await h.current("ci-runner"));
    expect(who).toMatchObject({ id: state.current?.tokenId, scopes: ["run:jobs"] });
    expect((await h.gatewayTokens("ci-runner")).filter((t) => t.status === "active").map((t) => t.id)).toEqual([who.id]);
  }

  it.each(TAGS)("a forged tag %s harms nothing", async (key) => {
    const v = await setUp();
    for (const value of forgedValues(key, v)) {
      await sm.send(new TagResourceCommand({ SecretId: h.secretName("ci-runner"), Tags: [{ Key: key, Value: value }] }));
    }
    await exercise();
    await assertNoHarm(v);
  });

  it.each(RECORD_FIELDS)("a forged %s in the stored record harms nothing", async (field) => {
    const v = await setUp();
    const current = JSON.parse(serialiseRecord((await h.store.read(h.secretName("ci-runner"), Stage.Current))!)) as Record<string, unknown>;
    const [value] = forgedValues(field, v);
    const forged = { ...current, [field]: field === "scopes" ? JSON.parse(value) : field === "schema" ? 2 : value };
    await sm.send(new PutSecretValueCommand({ SecretId: h.secretName("ci-runner"), SecretString: JSON.stringify(forged) }));
    await exercise();
    await assertNoHarm(v);
  });
});
