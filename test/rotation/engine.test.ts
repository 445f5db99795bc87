import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GatewayBackend } from "../../src/gateway/backend";
import { FencedEntry } from "../../src/ledger/fenced-entry";
import { Ledger, LedgerPhase } from "../../src/ledger/ledger";
import { Boundary } from "../../src/rotation/observability";
import { Stage, TokenStore } from "../../src/store/token-store";
import { DAY, Recorder, RotationHarness } from "../support/rotation-harness";

/** Counts calls to every method of an object, for "this run made no such call" assertions. */
function counting<T extends object>(target: T): { proxy: T; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(key)] = (calls[String(key)] ?? 0) + 1;
        return value.apply(obj, args);
      };
    },
  });
  return { proxy, calls };
}

describe("RotationEngine", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  describe("deciding what is due", () => {
    it("touches no secret and calls no gateway for tokens that are not due", async () => {
      await h.declare({ name: "svc-a" }, { name: "svc-b" });
      await h.advance(0.79 * 30 * DAY);
      const store = counting<TokenStore>(h.store);
      const backend = counting<GatewayBackend>(h.admin);

      const summary = await h.engine({ store: store.proxy, backend: backend.proxy }).runScheduled();

      // The ledger's due index lists nothing: no secret is even described, no gateway is called.
      expect(summary).toMatchObject({ scanned: 0, due: 0, outcomes: {} });
      expect(store.calls).toEqual({});
      expect(backend.calls).toEqual({});
    });

    it("starts a rotation at 80% of the TTL, or at the token's own fraction", async () => {
      await h.declare({ name: "default" }, { name: "early", rotationFraction: 0.5 });
      await h.advance(0.6 * 30 * DAY);
      const first = await h.engine().runScheduled();
      expect(first.outcomes).toEqual({ "openclaw/dev/early": "waiting" }); // "default" is not due: the index leaves it out

      await h.advance(0.21 * 30 * DAY);
      const second = await h.engine().runScheduled();
      expect(second.outcomes["openclaw/dev/default"]).toBe("waiting");
    });
  });

  describe("a dual-active rotation", () => {
    it("promotes a verified new token while the old one stays valid", async () => {
      await h.declare({ name: "ci-runner", scopes: ["run:jobs", "read:jobs"] });
      const old = await h.current("ci-runner");
      await h.advance(25 * DAY);
      const recorder = new Recorder();

      const summary = await h.engine({}, recorder).runScheduled();

      const current = await h.current("ci-runner");
      const entry = await h.entry("ci-runner");
      expect(summary.outcomes).toEqual({ "openclaw/dev/ci-runner": "waiting" });
      expect(current.reveal()).not.toBe(old.reveal());
      expect(await h.admin.whoami(current)).toMatchObject({ scopes: ["read:jobs", "run:jobs"] });
      expect(await h.accepted(old)).toBe(true);
      expect((await h.store.read(h.secretName("ci-runner"), Stage.Previous))?.token.reveal()).toBe(old.reveal());
      expect(entry.state.retiring?.tokenId).toBe((await h.admin.whoami(old)).id);
      expect(entry.state.current?.tokenId).toBe((await h.admin.whoami(current)).id);
      expect(entry.state.phase).toBe(LedgerPhase.Draining);
      expect(entry.state.rotation).toBeUndefined();
      expect(recorder.counts).toMatchObject({ TokensDue: 1, RotationsStarted: 1 });
    });

    it("revokes the old token only after consumers use the new one and the old one has been quiet", async () => {
      await h.declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      const fresh = await h.current("ci-runner");
      const engine = () => h.engine({ settings: h.settings({ quietPeriodMs: 10 * 60_000 }) });

      // No consumer has moved yet: the old token is kept however long it has been quiet.
      await h.advance(30 * 60_000);
      expect((await engine().runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("waiting");
      // A consumer still on the old token, then one on the new token: the old one is not quiet yet.
      expect(await h.consume(old)).toBe(201);
      expect(await h.consume(fresh)).toBe(201);
      await h.advance(5 * 60_000);
      expect((await engine().runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("waiting");
      expect(await h.accepted(old)).toBe(true);
      // Quiet for the full period: revoked, confirmed, recorded.
      await h.advance(6 * 60_000);
      const recorder = new Recorder();
      const done = await h.engine({ settings: h.settings({ quietPeriodMs: 10 * 60_000 }) }, recorder).runScheduled();

      expect(done.outcomes["openclaw/dev/ci-runner"]).toBe("completed");
      expect(await h.accepted(old)).toBe(false);
      expect(await h.accepted(fresh)).toBe(true);
      expect((await h.entry("ci-runner")).state).toMatchObject({ phase: LedgerPhase.Idle, lastRotatedAt: expect.any(Date), retiring: undefined });
      expect(recorder.counts).toMatchObject({ RotationsCompleted: 1 });
    });

    it("counts a consumer request sent without a User-Agent as consumer traffic", async () => {
      await h.declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      const fresh = await h.current("ci-runner");
      // fetch always sends a User-Agent; a bare HTTP request does not.
      const status = await new Promise<number>((resolve, reject) => {
        const url = new URL(`${h.gateway.url}/v1/agents`);
        const req = require("node:http").request(
          { host: url.hostname, port: url.port, path: url.pathname, headers: { Authorization: `Bearer ${fresh.reveal()}` } },
          (res: import("node:http").IncomingMessage) => (res.resume(), resolve(res.statusCode ?? 0)),
        );
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(403); // ci-runner may not list agents, but the request was made with the new token
      await h.advance(11 * 60_000);
      expect((await h.engine().runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("completed");
      expect(await h.accepted(old)).toBe(false);
    });

    it("does not count its own calls as consumer traffic", async () => {
      await h.declare({ name: "ci-runner" });
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      await h.admin.whoami(await h.current("ci-runner"));
      await h.advance(DAY);
      const { outcomes } = await h.engine().runScheduled();
      expect(outcomes["openclaw/dev/ci-runner"]).toBe("waiting");
    });

    it("revokes the old token anyway just before it expires, and reports consumers still on it", async () => {
      await h.declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      await h.advance(5 * DAY - 30 * 60_000);
      const recorder = new Recorder();

      const { outcomes } = await h.engine({}, recorder).runScheduled();

      expect(outcomes["openclaw/dev/ci-runner"]).toBe("consumers-still-on-old-token");
      expect(await h.accepted(old)).toBe(false);
      expect(recorder.counts).toMatchObject({ ConsumersStillOnOldToken: 1, RotationsFailed: 1 });
      expect(recorder.lines.some((l) => l.level === "error" && /consumers still on the old token/.test(l.message))).toBe(true);
    });
  });

  describe("concurrency", () => {
    it("lets only one of several simultaneous runs rotate a token: one mint, one revoke", async () => {
      await h.declare({ name: "ci-runner" });
      await h.advance(25 * DAY);
      const before = await h.gatewayTokens("ci-runner");

      const runs = await Promise.all([h.engine().runScheduled(), h.engine().runScheduled(), h.engine().runScheduled()]);

      const outcomes = runs.map((r) => r.outcomes["openclaw/dev/ci-runner"]).sort();
      expect(outcomes.filter((o) => o === "waiting")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "busy" || o === "waiting")).toHaveLength(3);
      expect((await h.gatewayTokens("ci-runner")).length - before.length).toBe(1);
    });
  });

  describe("failure isolation and bad state", () => {
    it("rotates past a hand-edited AWSCURRENT value (nothing is read from it) and restores a recorded value", async () => {
      await h.declare({ name: "good" }, { name: "edited" });
      const client = new SecretsManagerClient({});
      await client.send(new PutSecretValueCommand({ SecretId: h.secretName("edited"), SecretString: '{"token":"pasted"}' }));
      client.destroy();
      await h.advance(25 * DAY);

      const { outcomes } = await h.engine().runScheduled();

      expect(outcomes).toEqual({ "openclaw/dev/good": "waiting", "openclaw/dev/edited": "waiting" });
      const current = await h.current("edited");
      expect((await h.admin.whoami(current)).id).toBe((await h.entry("edited")).state.current?.tokenId);
    });

    it("reports a token declared for another gateway without touching it", async () => {
      await h.declare({ name: "foreign" });
      const entry = await h.entry("foreign");
      await h.ledger.writeAll(entry, { ...entry.declaration, gatewayUrl: "https://gateway.openclaw.example" }, entry.state, undefined);
      await h.advance(25 * DAY);
      const before = await h.current("foreign");
      const recorder = new Recorder();

      const { outcomes } = await h.engine({}, recorder).runScheduled();

      expect(outcomes["openclaw/dev/foreign"]).toBe("bad-state");
      expect(recorder.lines.find((l) => l.level === "error")?.message).toMatch(/each environment's rotator manages only its own gateway/);
      expect((await h.current("foreign")).reveal()).toBe(before.reveal());
      expect(await h.accepted(before)).toBe(true);
    });

    it("issues a new token at once when the current one is revoked mid-drain, keeping the old one valid, and alarms", async () => {
      await h.declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      const fresh = await h.current("ci-runner");
      await h.consume(fresh);
      await h.admin.revoke((await h.admin.whoami(fresh)).id);
      await h.advance(DAY);
      const recorder = new Recorder();

      const { outcomes } = await h.engine({}, recorder).runScheduled();

      expect(outcomes["openclaw/dev/ci-runner"]).toBe("waiting");
      expect(await h.accepted(old)).toBe(true);
      const replacement = await h.current("ci-runner");
      expect(await h.accepted(replacement)).toBe(true);
      expect((await h.entry("ci-runner")).state).toMatchObject({ phase: LedgerPhase.Draining, retiring: { tokenId: (await h.admin.whoami(old)).id } });
      expect(recorder.counts.BadState).toBe(1);
      expect(recorder.lines.find((l) => l.level === "error")?.message).toMatch(/is revoked; issuing a new token now, the old one stays valid/);
    });

    it("at the deadline with the current token revoked, issues a valid token before the old one goes", async () => {
      await h.declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      await h.admin.revoke((await h.admin.whoami(await h.current("ci-runner"))).id);
      await h.advance(5 * DAY - 30 * 60_000); // past the deadline (expiry - 1 h), before the old token's expiry

      expect((await h.engine().runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("consumers-still-on-old-token");

      expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
      expect(await h.accepted(old)).toBe(false);
      expect((await h.entry("ci-runner")).state.retiring).toBeUndefined();
    });

    it("stops between steps when its lease is about to expire, leaving the token resumable", async () => {
      await h.declare({ name: "ci-runner" });
      await h.advance(25 * DAY);
      // A lease that is already within a minute of expiry when it is taken.
      const short = h.engine({ settings: h.settings({ leaseTtlMs: 30_000 }) });
      expect(await short.rotateNow(h.secretName("ci-runner"))).toBe("deferred");
      expect((await h.entry("ci-runner")).state.rotation).toBeUndefined();
      expect((await h.engine().runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("waiting");
    });

    it("stops at its next step when its lease is taken over (as the leak response does), leaving the token resumable", async () => {
      await h.declare({ name: "ci-runner" });
      await h.advance(25 * DAY);
      const before = await h.gatewayTokens("ci-runner");
      const takeOver = {
        checkpoint: async (b: Boundary) => {
          if (b === Boundary.IntentRecorded) {
            const taken = await FencedEntry.acquire(h.ledger, h.secretName("ci-runner"), { owner: "emergency-elsewhere", clock: h.clock, ttlMs: 60_000, takeOver: true });
            if (taken.kind === "acquired") await taken.entry.release();
          }
        },
      };

      expect(await h.engine({ observer: takeOver }).rotateNow(h.secretName("ci-runner"))).toBe("busy");

      expect(await h.gatewayTokens("ci-runner")).toHaveLength(before.length); // it minted nothing
      expect((await h.entry("ci-runner")).state.phase).toBe(LedgerPhase.Minting);
      await h.advance(2 * 60_000);
      expect((await h.engine().runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("waiting");
    });

    it("leaves tokens for the next run when the Lambda's time runs short", async () => {
      await h.declare({ name: "svc-a" }, { name: "svc-b" });
      await h.advance(25 * DAY);
      const { outcomes } = await h.engine().runScheduled(() => 30_000);
      expect(Object.values(outcomes)).toEqual(["deferred", "deferred"]);
      expect((await h.engine().runScheduled()).outcomes["openclaw/dev/svc-a"]).toBe("waiting");
    });
  });

  describe("Secrets Manager's rotation steps", () => {
    it("create, set, test and finish promote a new token; the schedule then drains and revokes the old one", async () => {
      await h.declare({ name: "ci-runner" });
      const old = await h.current("ci-runner");
      const engine = h.engine();
      const token = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

      for (const step of ["createSecret", "createSecret", "setSecret", "testSecret", "finishSecret", "finishSecret"] as const) {
        await engine.handleSecretsManagerStep(step, h.secretName("ci-runner"), token);
      }

      const fresh = await h.current("ci-runner");
      expect((await h.store.describe(h.secretName("ci-runner")))?.stages.AWSCURRENT).toBe(token);
      expect(await h.accepted(old)).toBe(true);
      await h.consume(fresh);
      await h.advance(11 * 60_000);
      expect((await h.engine().runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("completed");
      expect(await h.accepted(old)).toBe(false);
    });

    it("refuses createSecret while the previous rotation is still draining, keeping the old token tracked", async () => {
      await h.declare({ name: "ci-runner" });
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      const retiring = (await h.entry("ci-runner")).state.retiring?.tokenId;

      await expect(h.engine().handleSecretsManagerStep("createSecret", h.secretName("ci-runner"), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")).rejects.toThrow(
        /a rotation is in progress \(phase draining\)/,
      );

      expect((await h.entry("ci-runner")).state.retiring?.tokenId).toBe(retiring);
      expect((await h.entry("ci-runner")).state.rotation).toBeUndefined();
    });

    it("refuses finishSecret for a rotation that was aborted after testSecret, leaving AWSCURRENT valid", async () => {
      await h.declare({ name: "ci-runner" });
      const engine = h.engine();
      const token = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
      await engine.handleSecretsManagerStep("createSecret", h.secretName("ci-runner"), token);
      await engine.handleSecretsManagerStep("testSecret", h.secretName("ci-runner"), token);
      await engine.emergencyRevoke(h.secretName("ci-runner")); // revokes the staged token and drops AWSPENDING

      await expect(engine.handleSecretsManagerStep("finishSecret", h.secretName("ci-runner"), token)).rejects.toThrow(/no longer staged/);

      expect((await h.store.describe(h.secretName("ci-runner")))?.stages.AWSCURRENT).not.toBe(token);
      expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
    });

    it("refuses testSecret when no AWSPENDING was staged", async () => {
      await h.declare({ name: "ci-runner" });
      await expect(h.engine().handleSecretsManagerStep("testSecret", h.secretName("ci-runner"), "11111111-2222-4333-8444-555555555555")).rejects.toThrow(
        /no rotation 11111111-2222-4333-8444-555555555555 is staged/,
      );
    });
  });

  describe("emergency revocation", () => {
    it("revokes the leaked token at once and issues a replacement as AWSCURRENT", async () => {
      await h.declare({ name: "ci-runner", scopes: ["run:jobs"] });
      const leaked = await h.current("ci-runner");

      const result = await h.engine().emergencyRevoke(h.secretName("ci-runner"));

      const replacement = await h.current("ci-runner");
      expect(await h.accepted(leaked)).toBe(false);
      expect(await h.admin.whoami(replacement)).toMatchObject({ id: result.newTokenId, scopes: ["run:jobs"] });
      expect(result.revokedTokenIds).toHaveLength(1);
      expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    });

    it("still revokes the leaked token when no replacement can be issued, and says consumers have none", async () => {
      await h.declare({ name: "ci-runner" });
      const leaked = await h.current("ci-runner");
      const noMint: GatewayBackend = Object.create(h.admin);
      noMint.mint = () => Promise.reject(new Error("gateway refused to mint"));

      const error = await h.engine({ backend: noMint }).emergencyRevoke(h.secretName("ci-runner")).catch((e: Error) => e);

      expect(await h.accepted(leaked)).toBe(false);
      expect(String(error)).toMatch(/the leaked tokens were revoked, but no replacement could be issued: Error: gateway refused to mint/);
      expect(String(error)).toMatch(/consumers have no valid token until one is issued/);
    });

    it("takes the token over from a scheduled run that holds it: a leak waits for no lease", async () => {
      await h.declare({ name: "ci-runner" });
      const leaked = await h.current("ci-runner");
      const held = await FencedEntry.acquire(h.ledger, h.secretName("ci-runner"), { owner: "scheduled-run", clock: h.clock, ttlMs: 600_000 });
      expect(held.kind).toBe("acquired");

      await h.engine().emergencyRevoke(h.secretName("ci-runner"));

      expect(await h.accepted(leaked)).toBe(false);
      expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
      // The run that held it finds out at its next write, which changes nothing.
      if (held.kind === "acquired") await expect(held.entry.renew()).rejects.toMatchObject({ code: "ledger_conflict" });
    });

    it("revokes the token AWSCURRENT holds when a rotation stopped between promoting it and recording that", async () => {
      await h.declare({ name: "ci-runner" });
      const first = await h.current("ci-runner");
      await h.advance(25 * DAY);
      const crashAfterPromote = { checkpoint: (b: Boundary) => { if (b === Boundary.Promoted) throw new Error("killed"); } };
      expect((await h.engine({ observer: crashAfterPromote }).runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("failed");
      const promoted = await h.current("ci-runner");
      expect((await h.entry("ci-runner")).state.phase).toBe(LedgerPhase.Staged); // the ledger lags behind the stages

      const result = await h.engine().emergencyRevoke(h.secretName("ci-runner"));

      expect(await h.accepted(first)).toBe(false);
      expect(await h.accepted(promoted)).toBe(false);
      expect(await h.admin.whoami(await h.current("ci-runner"))).toMatchObject({ id: result.newTokenId });
      expect((await h.gatewayTokens("ci-runner")).filter((t) => t.status === "active")).toHaveLength(1);
    });

    it("never revokes its replacement once it is AWSCURRENT, even when the last ledger write fails; the next run settles it", async () => {
      await h.declare({ name: "ci-runner" });
      const leaked = await h.current("ci-runner");
      let failed = false;
      const lastWriteFails: Ledger = Object.create(h.ledger);
      lastWriteFails.writeState = (entry, state, lease) => {
        if (!failed && state.phase === LedgerPhase.Idle && entry.state.phase === LedgerPhase.Draining && state.revokeNow.length === 0) {
          failed = true;
          return Promise.reject(new Error("ThrottlingException: rate exceeded"));
        }
        return h.ledger.writeState(entry, state, lease);
      };

      const error = await h.engine({ ledger: lastWriteFails }).emergencyRevoke(h.secretName("ci-runner")).catch((e: Error) => e);

      expect(String(error)).toMatch(/ThrottlingException/);
      expect(await h.accepted(leaked)).toBe(false);
      const replacement = await h.current("ci-runner");
      expect(await h.accepted(replacement)).toBe(true);
      // Recorded as current (draining off the revoked one): the next runs finish without touching the replacement.
      expect((await h.entry("ci-runner")).state.current?.tokenId).toBe((await h.admin.whoami(replacement)).id);
      expect(await h.consume(replacement)).toBe(201);
      await h.advance(11 * 60_000);
      await h.engine().runScheduled();
      expect(await h.accepted(replacement)).toBe(true);
      expect((await h.entry("ci-runner")).state.phase).toBe(LedgerPhase.Idle);
    });

    it("leaves one valid token when it strikes in the middle of a scheduled rotation, which does not go on", async () => {
      await h.declare({ name: "ci-runner" });
      await h.advance(25 * DAY);
      const leakMidRun = {
        checkpoint: async (b: Boundary) => {
          if (b === Boundary.IntentRecorded) await h.engine().emergencyRevoke(h.secretName("ci-runner"));
        },
      };

      const { outcomes } = await h.engine({ observer: leakMidRun }).runScheduled();

      expect(outcomes["openclaw/dev/ci-runner"]).toBe("busy"); // fenced: its next write found the entry taken over
      expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
      expect((await h.gatewayTokens("ci-runner")).filter((t) => t.status === "active")).toHaveLength(1);
    });

    it("also revokes a token that is still draining and a rotation that was staged", async () => {
      await h.declare({ name: "ci-runner" });
      const first = await h.current("ci-runner");
      await h.advance(25 * DAY);
      await h.engine().runScheduled();
      const second = await h.current("ci-runner");

      await h.engine().emergencyRevoke(h.secretName("ci-runner"));

      expect(await h.accepted(first)).toBe(false);
      expect(await h.accepted(second)).toBe(false);
      expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
      expect((await h.gatewayTokens("ci-runner")).filter((t) => t.status === "active")).toHaveLength(1);
    });
  });
});
