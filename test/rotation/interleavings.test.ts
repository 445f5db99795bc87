/**
 * The interleaving matrix: a scheduled rotation is interrupted at every step boundary by another actor (the leak
 * response, pulumi up with a scope or TTL change, pulumi destroy, Secrets Manager's own rotation steps, an operator's
 * CLI whose clock runs 11 minutes ahead), and either carries on or dies there. Actors that find the token held retry
 * later, as pulumi, Secrets Manager and operators do. With Secrets Manager throttling injected into the runs that
 * follow, every case must converge within a bounded number of runs: one valid AWSCURRENT, the ledger and the stages
 * agreeing, no live token that the ledger does not record, and whatever the actors asked for done.
 */
import { Sensitive } from "../../src/domain/sensitive";
import { fingerprint } from "../../src/ledger/fingerprint";
import { LedgerPhase } from "../../src/ledger/ledger";
import { createProviderRuntime } from "../../src/provider/runtime";
import { GatewayTokenInputs } from "../../src/provider/inputs";
import { GatewayTokenOutputs } from "../../src/provider/outputs";
import { Boundary } from "../../src/rotation/observability";
import { Stage, TokenStore } from "../../src/store/token-store";
import { DAY, LEASE_EXPIRY, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(120_000);

const SECRET = "openclaw/dev/app";

interface Actor {
  /** Acts once; throws when the token is held (the caller retries later). */
  act(h: RotationHarness): Promise<void>;
  /** What must hold once everything converged. */
  readonly expect: "rotated" | "scopes-changed" | "ttl-changed" | "destroyed";
}

function provider(h: RotationHarness) {
  return createProviderRuntime({ backend: () => h.admin, store: () => h.store, ledger: () => h.ledger, clock: h.clock, leaseWaitMs: 50 });
}

async function providerInputs(h: RotationHarness, overrides: Record<string, unknown> = {}): Promise<GatewayTokenInputs> {
  const checked = await provider(h).check({}, { name: "app", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0, ...overrides });
  return checked.inputs as GatewayTokenInputs;
}

const ACTORS: Record<string, Actor> = {
  "the leak response": { act: (h) => h.engine().emergencyRevoke(SECRET).then(() => undefined), expect: "rotated" },
  "pulumi up (scope change)": {
    act: async (h) => {
      const news = await providerInputs(h, { scopes: ["run:jobs", "read:jobs"] });
      const olds = { ...(await providerInputs(h)), tokenStatus: "active" } as GatewayTokenOutputs;
      await provider(h).update(SECRET, olds, news);
    },
    expect: "scopes-changed",
  },
  "pulumi up (TTL change)": {
    act: async (h) => {
      const olds = { ...(await providerInputs(h)), tokenStatus: "active" } as GatewayTokenOutputs;
      await provider(h).update(SECRET, olds, await providerInputs(h, { ttl: "60d" }));
    },
    expect: "ttl-changed",
  },
  "pulumi destroy": {
    act: async (h) => provider(h).delete(SECRET, { ...(await providerInputs(h)), tokenStatus: "active" } as GatewayTokenOutputs),
    expect: "destroyed",
  },
  "Secrets Manager's rotation": {
    act: async (h) => {
      const token = "5a5a5a5a-0000-4000-8000-000000000000";
      const engine = h.engine();
      const arn = (await h.store.describe(SECRET))!.arn;
      for (const step of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) await engine.handleSecretsManagerStep(step, arn, token);
    },
    expect: "rotated",
  },
  "an operator's CLI 11 minutes ahead": {
    act: async (h) => {
      const outcome = await h.engine({ clock: { now: () => new Date(h.clock.now().getTime() + 11 * 60_000) } }).rotateNow(SECRET);
      if (outcome === "busy" || outcome === "failed") throw new Error(`rotate: ${outcome}`);
    },
    expect: "rotated",
  },
};

/** Where the scheduled run is interrupted: every durable step boundary of a rotation. */
const BOUNDARIES = Object.values(Boundary);
const FIRST_RUN = new Set<Boundary>([Boundary.IntentRecorded, Boundary.Minted, Boundary.Staged, Boundary.Verified, Boundary.Promoted, Boundary.DrainingRecorded]);
/** Actors combined with a run that dies at the boundary too (the others only find the token held). */
const CRASHING = ["the leak response", "pulumi up (scope change)", "pulumi destroy"];

const CASES = BOUNDARIES.flatMap((boundary) =>
  Object.keys(ACTORS).flatMap((actor) => [
    { boundary, actor, dies: false },
    ...(CRASHING.includes(actor) ? [{ boundary, actor, dies: true }] : []),
  ]),
);

/** A store whose every third call is throttled: steps fail between two of their writes. */
function throttled(store: TokenStore): TokenStore {
  let calls = 0;
  const wrapper: TokenStore = Object.create(store);
  for (const method of ["describe", "read", "putVersion", "moveStage", "removeStage"] as const) {
    (wrapper as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      ++calls % 3 === 0
        ? Promise.reject(Object.assign(new Error("ThrottlingException: rate exceeded"), { name: "ThrottlingException" }))
        : (store[method] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
  }
  return wrapper;
}

describe("interleavings", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  it.each(CASES)("scheduled run at $boundary, $actor, run dies: $dies", async ({ boundary, actor, dies }) => {
    await h.declare({ name: "app", scopes: ["run:jobs"] });
    const original = (await h.admin.whoami(await h.current("app"))).id;
    const { act, expect: goal } = ACTORS[actor];
    let done = false;
    const attempt = async () => {
      if (done) return;
      await act(h).then(() => (done = true), () => undefined);
    };
    const interrupt = {
      checkpoint: async (b: Boundary) => {
        if (b !== boundary) return;
        await attempt();
        if (dies) throw new Error("killed");
      },
    };
    await h.advance(25 * DAY);
    if (!FIRST_RUN.has(boundary)) {
      await h.engine().runScheduled(); // promoted, draining
      await h.consume(await h.current("app"));
      await h.advance(11 * 60_000);
    }

    // The suspension's boundary is reached only with a grace window (the harness revokes on evidence alone by default).
    const settings = h.settings(boundary === Boundary.OldSuspended ? { suspensionWindowMs: 30 * 60_000 } : {});
    await h.engine({ observer: interrupt, settings }).runScheduled();

    // Converge: the actor retries, scheduled runs go on (the first one throttled), consumers use what is current.
    for (let run = 0; run < 10; run++) {
      await h.advance(dies ? LEASE_EXPIRY : 11 * 60_000);
      await attempt();
      await h.engine(run === 0 ? { store: throttled(h.store), settings } : { settings }).runScheduled();
      const entry = await h.ledger.get(SECRET);
      if (!entry) break;
      if (done && entry.state.phase === LedgerPhase.Idle && entry.state.revokeNow.length === 0 && entry.state.abandonedMints.length === 0) break;
      await h.consume(await h.current("app")).catch(() => 0);
    }

    expect(done).toBe(true);
    const live = (await h.gatewayTokens("app")).filter((t) => t.status === "active").map((t) => t.id);
    const entry = await h.ledger.get(SECRET);
    if (goal === "destroyed") {
      expect(entry).toBeUndefined();
      expect(live).toEqual([]);
      expect(await h.store.describe(SECRET)).toBeUndefined();
      return;
    }
    expect(entry?.state.phase).toBe(LedgerPhase.Idle);
    const current = entry!.state.current!;
    const secret = await h.store.describe(SECRET);
    const value = (await h.store.read(SECRET, Stage.Current))!.token;
    expect(secret?.stages.AWSCURRENT).toBe(current.versionId);
    expect(fingerprint(value)).toBe(current.valueSha256);
    expect(live).toEqual([current.tokenId]);
    const who = await h.admin.whoami(new Sensitive(value.reveal()));
    expect(who.id).toBe(current.tokenId);
    expect(current.tokenId).not.toBe(original);
    if (goal === "scopes-changed") expect(who.scopes).toEqual(["read:jobs", "run:jobs"]);
    else expect(who.scopes).toEqual(["run:jobs"]);
    if (goal === "ttl-changed") expect(entry!.declaration.ttlSeconds).toBe(60 * 86400);
  });
});
