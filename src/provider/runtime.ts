/**
 * The GatewayToken provider, as the Pulumi engine drives it. Every decision comes from the ledger (src/ledger/), which
 * the provider writes as the deployer: the declaration, and the state when it mints. Secrets Manager holds values.
 *
 *   check   validate and default inputs                                     (no remote call)
 *   create  ledger: declaration + intent (mint name) -> mint -> CreateSecret -> ledger: idle with the token
 *           (a crash after minting leaves the mint name: the next create, or the rotator, revokes what it minted)
 *   read    ledger + the gateway's record of the current token by ID; AWSCURRENT must hold the recorded value
 *   diff    inputs vs state; drift -> update
 *   update  scopes or drift: a rotation with the new declaration, under the entry's lease (old token kept live as
 *           AWSPREVIOUS for the rotator to retire); ttl/fraction: the declaration only
 *   delete  under the lease: revoke every token the ledger records -> gateway confirms -> DeleteSecret -> ledger entry
 *
 * This module is bundled into dist/provider-runtime.js and loaded by the thin shell that Pulumi serialises into
 * state (gateway-token.ts), so no SDK client or credential is ever captured in a closure.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { randomUUID } from "node:crypto";
import { Clock, sleep, systemClock } from "../domain/clock";
import { parseDuration } from "../domain/duration";
import { TokenOpsError, ValidationError } from "../domain/errors";
import { Sensitive } from "../domain/sensitive";
import { GatewayBackend, IssuedToken, ownUserAgent, sameGatewayName, TokenStatus } from "../gateway/backend";
import { AmbiguousOutcomeError, InvalidTokenError, TokenExpiredError } from "../gateway/errors";
import { createBackend } from "../gateway/factory";
import { revokeAllNamed, revokeOnFailure } from "../gateway/minting";
import { DynamoDbLedger } from "../ledger/dynamodb-ledger";
import { FencedEntry } from "../ledger/fenced-entry";
import { fingerprint } from "../ledger/fingerprint";
import { Declaration, dueAt, idleState, Ledger, LedgerEntry, LedgerPhase, LedgerToken, MAX_CLOCK_SKEW_MS, RotationState } from "../ledger/ledger";
import { silentLogger, noMetrics } from "../rotation/observability";
import { DEFAULT_SETTINGS, RotatorSettings } from "../rotation/settings";
import { abandonedState, ledgerToken, mintAndStage, newIntent, recordFor, revokeWitnessed, StepContext, sweep, verifyAndPromote } from "../rotation/steps";
import { Tag } from "../store/metadata";
import { readRotatorCredential } from "../store/rotator-credential";
import { writeAsCurrent } from "../store/promote";
import { SecretsManagerTokenStore } from "../store/secrets-manager-store";
import { Stage, TokenStore } from "../store/token-store";
import { checkInputs, DEFAULT_CONSUMER_CACHE_TTL, GatewayTokenInputs } from "./inputs";
import { GatewayTokenOutputs, REPLACE_ON_CHANGE, TokenHealth, UPDATE_IN_PLACE } from "./outputs";

/** What the provider talks to; injected so that tests can put faults between it and its peers. */
export interface ProviderDependencies {
  /** The gateway, with the admin credential to use (the given adminToken, else the rotator credential). */
  backend(inputs: WithCredential): GatewayBackend;
  /**
   * The environment's rotator credential, for a declaration without adminToken: read when the provider acts, never
   * written to state (a credential in state would be stale after its next rotation, and destroy reads state's inputs).
   */
  rotatorCredential?(inputs: GatewayTokenInputs): Promise<Sensitive>;
  store(inputs: GatewayTokenInputs): TokenStore;
  ledger(inputs: GatewayTokenInputs): Ledger;
  readonly clock: Clock;
  /** How long update and delete wait for a rotator step that holds the token's lease. @default 3 minutes */
  readonly leaseWaitMs?: number;
}

export const defaultDependencies: ProviderDependencies = {
  backend: (inputs) =>
    createBackend({
      kind: inputs.backend,
      url: inputs.gatewayUrl,
      environment: inputs.environment,
      adminToken: new Sensitive(inputs.adminToken),
      userAgent: ownUserAgent("provider"),
    }),
  rotatorCredential: async (inputs) => {
    const clientConfig = inputs.awsRegion ? { region: inputs.awsRegion } : {};
    const client = new SecretsManagerClient(clientConfig);
    try {
      const ledger = new DynamoDbLedger({ tableName: inputs.ledgerTable, environment: inputs.environment, clientConfig });
      return await readRotatorCredential(client, ledger, inputs.environment, { url: inputs.gatewayUrl, kind: inputs.backend });
    } finally {
      client.destroy();
    }
  },
  store: (inputs) =>
    new SecretsManagerTokenStore({
      environment: inputs.environment,
      clientConfig: inputs.awsRegion ? { region: inputs.awsRegion } : {},
    }),
  ledger: (inputs) =>
    new DynamoDbLedger({ tableName: inputs.ledgerTable, environment: inputs.environment, clientConfig: inputs.awsRegion ? { region: inputs.awsRegion } : {} }),
  clock: systemClock,
};

/** Inputs with the admin credential the provider acts with: never returned as outputs. */
export type WithCredential = GatewayTokenInputs & { readonly adminToken: string };

export type ProviderRuntime = Required<Pick<dynamic.ResourceProvider, "check" | "diff" | "create" | "read" | "update" | "delete">>;

const LEASE_TTL_MS = DEFAULT_SETTINGS.leaseTtlMs;

export function createProviderRuntime(deps: ProviderDependencies = defaultDependencies): ProviderRuntime {
  const owner = `provider-${randomUUID()}`;

  /** The entry's lease, waiting for a rotator step that holds it: the provider never takes a token over mid-step. */
  async function hold(ledger: Ledger, secretName: string): Promise<FencedEntry | undefined> {
    const deadline = Date.now() + (deps.leaseWaitMs ?? 3 * 60_000);
    for (;;) {
      const acquired = await FencedEntry.acquire(ledger, secretName, { owner, clock: deps.clock, ttlMs: LEASE_TTL_MS });
      if (acquired.kind === "missing") return undefined;
      if (acquired.kind === "acquired") return acquired.entry;
      if (Date.now() > deadline) {
        throw new TokenOpsError("rotate_busy", `${secretName} is being worked on by ${acquired.holder}`, {
          hint: "a rotator step or another pulumi run holds the token; run pulumi up again in a few minutes",
        });
      }
      await sleep(2_000);
    }
  }

  /** The gateway, with the declared adminToken or else the environment's rotator credential. */
  async function gatewayOf(inputs: GatewayTokenInputs): Promise<GatewayBackend> {
    if (inputs.adminToken) return deps.backend(inputs as WithCredential);
    const read = deps.rotatorCredential ?? defaultDependencies.rotatorCredential;
    const credential = await (read as NonNullable<typeof read>)(inputs);
    return deps.backend({ ...inputs, adminToken: credential.reveal() });
  }

  function stepContext(fence: FencedEntry, inputs: GatewayTokenInputs, store: TokenStore, backend: GatewayBackend): StepContext {
    const settings: RotatorSettings = { ...DEFAULT_SETTINGS, environment: inputs.environment, gatewayUrl: inputs.gatewayUrl, backend: inputs.backend };
    return { fence, store, backend, settings, log: silentLogger, metrics: noMetrics, now: () => deps.clock.now(), checkpoint: async () => undefined, force: true, freshIntents: new Set() };
  }

  return {
    async check(_olds, news) {
      const outcome = checkInputs(news);
      if (!outcome.ok) {
        return { failures: outcome.problems.map((p) => ({ property: p.field.replace(/\[\d+\]$/, ""), reason: `${p.field}: ${p.message}` })) };
      }
      return { inputs: definedOnly({ ...news, ...outcome.inputs }) };
    },

    async diff(_id, olds: GatewayTokenOutputs, news: GatewayTokenInputs) {
      const replaces = REPLACE_ON_CHANGE.filter((key) => !sameValue(olds[key], news[key]));
      // A state written before consumerCacheTtl existed declared its default.
      const old = { ...olds, consumerCacheTtl: olds.consumerCacheTtl ?? DEFAULT_CONSUMER_CACHE_TTL };
      const updates = UPDATE_IN_PLACE.filter((key) => !sameValue(old[key], news[key]));
      const drifted = olds.tokenStatus !== TokenHealth.Active;
      return {
        changes: replaces.length > 0 || updates.length > 0 || drifted,
        replaces,
        // The replacement would want the same secret name: the old one must go first.
        deleteBeforeReplace: replaces.length > 0 && olds.secretName === news.secretName,
      };
    },

    async create(raw: GatewayTokenInputs) {
      const inputs = validated(raw);
      const store = deps.store(inputs);
      const backend = await gatewayOf(inputs);
      const ledger = deps.ledger(inputs);
      const declaration = declarationOf(inputs);
      const now = deps.clock.now();
      // Look before minting: a name clash is refused without creating anything.
      const existing = await store.describe(inputs.secretName);
      let entry = await ledger.get(inputs.secretName);
      if (inputs.adopt) return adoptExisting(inputs, { store, backend, ledger }, declaration, existing, entry, now);
      const resuming = entry?.state.phase === LedgerPhase.Creating;
      if ((entry && !resuming) || (existing && !existing.deletedAt && !resuming)) {
        throw new TokenOpsError("secret_exists", `token ${inputs.secretName} already exists${entry ? " in the ledger" : " in Secrets Manager (with no ledger entry)"}`, {
          hint: entry
            ? "another stack or an earlier, lost state owns it: destroy it there, or choose another secretName"
            : "to take over the secret and its token as they are, set adopt: true (its token is checked with whoami first); otherwise delete the secret (aws secretsmanager delete-secret) or choose another secretName",
        });
      }
      if (existing?.deletedAt && existing.tags[Tag.TokenName] !== inputs.name) {
        throw new TokenOpsError("secret_exists", `secret ${inputs.secretName} is scheduled for deletion and belongs to another token`, {
          hint: "choose another secretName or wait until its recovery window ends",
        });
      }
      // The intent first, so that a crash after minting leaves the mint name where the next create (or the rotator,
      // once this lease is long expired) finds it and revokes what was minted.
      const intent = newIntent(inputs.name, now, "provider");
      const lease = { owner, renewedAt: now, ttlMs: LEASE_TTL_MS };
      const creating = (previous?: RotationState): RotationState => ({
        phase: LedgerPhase.Creating,
        current: undefined,
        pending: undefined,
        retiring: undefined,
        rotation: intent,
        promotedAt: undefined,
        lastRotatedAt: undefined,
        abandonedMints: previous?.abandonedMints ?? [],
        revokeNow: previous?.revokeNow ?? [],
        nextCheckAt: new Date(now.getTime() + LEASE_TTL_MS + MAX_CLOCK_SKEW_MS),
        lastError: undefined,
      });
      if (!entry) {
        entry = await ledger.create({ declaration, state: creating(), lease });
      } else {
        for (const name of [entry.state.rotation?.mintName, ...entry.state.abandonedMints.map((m) => m.mintName)]) {
          if (name) await revokeAllNamed(backend, name, undefined);
        }
        entry = await ledger.writeAll(entry, declaration, { ...creating(), abandonedMints: [] }, lease);
      }
      let issued: IssuedToken;
      try {
        issued = await backend.mint({ name: intent.mintName, scopes: inputs.scopes, expiresAt: new Date(now.getTime() + ttlSeconds(inputs) * 1000) });
      } catch (error) {
        if (error instanceof AmbiguousOutcomeError) await revokeAllNamed(backend, intent.mintName, error);
        await ledger.delete(entry).catch(() => undefined);
        throw error;
      }
      const record = recordFor(declaration, issued, now);
      const token = ledgerToken(record, intent.versionId);
      const written = entry;
      const arn = await revokeOnFailure(backend, issued.metadata.id, async () => {
        let stored;
        if (!existing) stored = await store.create(inputs.secretName, intent.versionId, record);
        else {
          // Destroyed earlier with a recovery window, or left by a create that died: take the secret back.
          if (existing.deletedAt) await store.restore(inputs.secretName);
          await writeAsCurrent(store, inputs.secretName, intent.versionId, record, existing.stages.AWSCURRENT);
          stored = await store.describe(inputs.secretName);
        }
        await ledger.writeAll(written, declaration, idleState(token, declaration, DEFAULT_SETTINGS.expiryMarginMs), undefined);
        return stored?.arn ?? "";
      }).catch(async (error: unknown) => {
        // A secret that appeared since we looked was made by a concurrent create of this token (two bootstrap-rotator
        // runs at once, which no stack lock serialises): the entry stays `creating`, so that the next create resumes it
        // and takes the secret back. Deleted, it would leave a secret with no entry, which every later create refuses.
        if (!existing && (error as { code?: string }).code === "store_ResourceExistsException") {
          // Its lease released (this create is over), so that the next one may resume it at once.
          await ledger.writeAll(written, declaration, written.state, undefined).catch(() => undefined);
          throw error;
        }
        // Nothing half-made: the minted token is revoked (above); the entry goes unless someone else wrote it since.
        await ledger.delete(written).catch(() => undefined);
        throw error;
      });
      return { id: inputs.secretName, outs: definedOnly(toOutputs(inputs, arn, token)) };
    },

    async read(id, props: GatewayTokenOutputs) {
      const inputs = { ...props, ledgerTable: props.ledgerTable } as GatewayTokenInputs;
      const store = deps.store(inputs);
      const secret = await store.describe(props.secretName);
      const entry = await deps.ledger(inputs).get(props.secretName);
      // Deleted out of band: the resource is gone, and the next `pulumi up` creates it again.
      if (!secret || secret.deletedAt || !entry) return { id: undefined, props: {} };
      const tokenStatus = await health(await gatewayOf(inputs), store, entry);
      return { id, props: definedOnly({ ...props, secretArn: secret.arn, tokenStatus } satisfies GatewayTokenOutputs) };
    },

    async update(_id, olds: GatewayTokenOutputs, raw: GatewayTokenInputs) {
      const inputs = validated(raw);
      const store = deps.store(inputs);
      const backend = await gatewayOf(inputs);
      const ledger = deps.ledger(inputs);
      const declaration = declarationOf(inputs);
      const fence = await hold(ledger, inputs.secretName);
      if (!fence) {
        throw new TokenOpsError("secret_missing", `the ledger has no entry for ${inputs.secretName}`, {
          hint: "run `pulumi refresh` so that Pulumi sees it is gone, then `pulumi up` to create it again",
        });
      }
      try {
        const entry = fence.entry;
        const status = entry.state.current ? await health(backend, store, entry) : TokenHealth.Revoked;
        const scopesChanged = !sameValue([...entry.declaration.scopes], [...declaration.scopes]) || !sameValue(olds.scopes, inputs.scopes);
        if (!scopesChanged && status === TokenHealth.Mismatch && entry.state.current) {
          // Someone moved AWSCURRENT or wrote another value there; the recorded token is live: put the stage back, and
          // leave a token that is draining to drain (a new token would retire it at once, under its consumers).
          const secret = await store.describe(inputs.secretName);
          if (secret && secret.stages.AWSCURRENT !== entry.state.current.versionId) {
            await store.moveStage(inputs.secretName, Stage.Current, entry.state.current.versionId, secret.stages.AWSCURRENT);
          }
          if ((await health(backend, store, entry)) === TokenHealth.Active) {
            await ledger.writeAll(entry, declaration, entry.state, undefined);
            return { outs: definedOnly({ ...olds, ...inputs, tokenStatus: TokenHealth.Active } satisfies GatewayTokenOutputs) };
          }
        }
        const needsNewToken = scopesChanged || status !== TokenHealth.Active;
        if (!needsNewToken) {
          // TTL, fraction and the like are the declaration: the live token is untouched.
          const state = entry.state;
          const nextCheckAt = state.phase === LedgerPhase.Idle && state.current ? dueAt(state.current, declaration, DEFAULT_SETTINGS.expiryMarginMs) : state.nextCheckAt;
          await ledger.writeAll(entry, declaration, { ...state, nextCheckAt }, undefined);
          return { outs: definedOnly({ ...olds, ...inputs, tokenStatus: TokenHealth.Active } satisfies GatewayTokenOutputs) };
        }
        // A rotation with the new declaration: a rotation the rotator started is abandoned (what it minted is revoked),
        // and a token two generations old (still draining) is revoked, since it would drop out of every stage.
        const now = deps.clock.now();
        const state = entry.state;
        const intent = newIntent(inputs.name, now, "provider");
        // A current token the gateway no longer accepts is not kept as retiring (nothing would drain from it): it is
        // listed for revocation like the older one, and the new token becomes current with nothing to drain.
        const dead = status === TokenHealth.Revoked || status === TokenHealth.Expired;
        const next: RotationState = {
          ...abandonedState(state, now),
          phase: LedgerPhase.Minting,
          current: dead ? undefined : state.current,
          retiring: undefined,
          promotedAt: undefined,
          revokeNow: [...abandonedState(state, now).revokeNow, ...(state.retiring ? [state.retiring] : []), ...(dead && state.current ? [state.current] : [])].map((t) => ({
            tokenId: t.tokenId,
            gatewayName: t.gatewayName,
          })),
          rotation: intent,
        };
        await ledger.writeAll(entry, declaration, next, entry.lease);
        const renewed = await FencedEntry.acquire(ledger, inputs.secretName, { owner, clock: deps.clock, ttlMs: LEASE_TTL_MS });
        if (renewed.kind !== "acquired") throw new TokenOpsError("rotate_busy", `${inputs.secretName} was taken over during pulumi up`, { hint: "run pulumi up again" });
        const ctx = stepContext(renewed.entry, inputs, store, backend);
        ctx.freshIntents.add(intent.id);
        await sweep(ctx);
        await mintAndStage(ctx);
        await verifyAndPromote(ctx);
        const current = renewed.entry.state.current as LedgerToken;
        await renewed.entry.release();
        return { outs: definedOnly(toOutputs(inputs, olds.secretArn, current)) };
      } finally {
        await fence.release().catch(() => undefined);
      }
    },

    async delete(_id, props: GatewayTokenOutputs) {
      const inputs = props as GatewayTokenInputs;
      const store = deps.store(inputs);
      const backend = await gatewayOf(inputs);
      const ledger = deps.ledger(inputs);
      const secret = await store.describe(props.secretName);
      const fence = await hold(ledger, props.secretName);
      if (!fence) {
        // No ledger entry: nothing says which tokens are this one's. Tokens are revoked only where the gateway's own
        // record names them as this token's (a secret's value is not trusted to say which token to revoke).
        if (secret && !secret.deletedAt) await revokeStoredValues(backend, store, props);
        if (secret && !secret.deletedAt) await store.delete(props.secretName, { recoveryWindowDays: props.recoveryWindowDays });
        return;
      }
      try {
        const state = fence.state;
        const tokens = [state.current, state.pending, state.retiring, ...state.revokeNow].filter((t) => t !== undefined);
        for (const token of tokens) {
          if ((await revokeWitnessed(backend, token, props.secretName)) === "still-active") {
            throw new TokenOpsError("revoke_unconfirmed", `token ${token.tokenId} is still accepted after revocation`, {
              hint: `the secret ${props.secretName} was kept; revoke the token on ${backend.url} by hand, then run pulumi destroy again`,
            });
          }
        }
        // A mint whose answer never reached the ledger is found by its recorded name.
        for (const name of [state.rotation?.mintName, ...state.abandonedMints.map((m) => m.mintName)]) {
          if (name) await revokeAllNamed(backend, name, undefined);
        }
        if (secret && !secret.deletedAt) await store.delete(props.secretName, { recoveryWindowDays: props.recoveryWindowDays });
        await ledger.delete(fence.entry);
      } catch (error) {
        await fence.release().catch(() => undefined);
        throw error;
      }
    },
  };
}

/**
 * Takes over an existing secret instead of minting (dynamic resources cannot be `pulumi import`ed): its AWSCURRENT
 * token must be one the declared gateway accepts, named as declared (the name, or the name plus a mint stamp), with
 * exactly the declared scopes, of this environment and not expired. Then the ledger records it as the current token,
 * unrotated, and the secret gets the identity tags. Anything else is refused with the fix, and nothing is written.
 */
async function adoptExisting(
  inputs: GatewayTokenInputs,
  deps: { store: TokenStore; backend: GatewayBackend; ledger: Ledger },
  declaration: Declaration,
  existing: Awaited<ReturnType<TokenStore["describe"]>>,
  entry: LedgerEntry | undefined,
  now: Date,
) {
  const refuse = (why: string, fix: string) => new TokenOpsError("adopt_refused", `cannot adopt ${inputs.secretName}: ${why}`, { hint: fix });
  if (entry) throw refuse("the ledger records it already", "it is managed already: drop adopt, or destroy it in the stack that owns it");
  if (!existing || existing.deletedAt || !existing.stages.AWSCURRENT) {
    throw refuse("there is no such secret (or it has no AWSCURRENT version)", "drop adopt to mint a new token, or set secretName to the secret to take over");
  }
  const record = await deps.store.read(inputs.secretName, Stage.Current).catch((error: unknown) => {
    throw refuse(`its AWSCURRENT value is not a ${inputs.environment} token record (${error instanceof Error ? error.message.replace(/\. Fix: .*$/s, "") : String(error)})`, "drop adopt: pulumi up mints a new token into it");
  });
  if (!record) throw refuse("its AWSCURRENT version cannot be read", "drop adopt: pulumi up mints a new token into it");
  const who = await deps.backend.whoami(record.token).catch((error: unknown) => {
    if (error instanceof InvalidTokenError || error instanceof TokenExpiredError) throw refuse(`the gateway refuses its token (${error.code})`, "drop adopt: pulumi up mints a new token");
    throw error;
  });
  const problems: string[] = [];
  if (who.name !== inputs.name && !who.name.startsWith(`${inputs.name}-`)) problems.push(`its token is named ${who.name} on the gateway, not ${inputs.name}`);
  if (!sameValue([...who.scopes].sort(), [...inputs.scopes].sort())) problems.push(`its token has scopes ${who.scopes.join(",")}, the declaration says ${inputs.scopes.join(",")}`);
  if (who.expiresAt && who.expiresAt.getTime() <= now.getTime()) problems.push("its token has expired");
  if (problems.length) {
    throw refuse(problems.join("; "), "declare the token as it is (its name and scopes), or drop adopt to mint a new one; nothing was changed");
  }
  const current: LedgerToken = {
    tokenId: who.id,
    gatewayName: who.name,
    issuedAt: (await deps.backend.describe(who.id))?.createdAt ?? now,
    expiresAt: who.expiresAt ?? new Date(now.getTime() + ttlSeconds(inputs) * 1000),
    versionId: existing.stages.AWSCURRENT,
    valueSha256: fingerprint(record.token),
  };
  await deps.store.tagIdentity(inputs.secretName, inputs.environment, inputs.name);
  await deps.ledger.create({ declaration, state: idleState(current, declaration, DEFAULT_SETTINGS.expiryMarginMs), lease: undefined });
  return { id: inputs.secretName, outs: definedOnly(toOutputs(inputs, existing.arn, current)) };
}

/** The runtime the provider shell loads. */
export const providerRuntime = createProviderRuntime();

function validated(raw: GatewayTokenInputs): GatewayTokenInputs {
  const outcome = checkInputs(raw as unknown as Record<string, unknown>);
  if (!outcome.ok) throw new ValidationError(`GatewayToken ${String(raw.name)}`, outcome.problems);
  return outcome.inputs;
}

function ttlSeconds(inputs: GatewayTokenInputs): number {
  return parseDuration(inputs.ttl) as number;
}

/** The ledger's declaration of a token, from its checked inputs. */
export function declarationOf(inputs: GatewayTokenInputs): Declaration {
  return {
    name: inputs.name,
    secretName: inputs.secretName,
    environment: inputs.environment,
    gatewayUrl: inputs.gatewayUrl,
    backend: inputs.backend,
    scopes: [...inputs.scopes],
    allowAdminScope: inputs.allowAdminScope,
    ttlSeconds: ttlSeconds(inputs),
    rotationFraction: inputs.rotationFraction,
    consumerCacheTtlSeconds: parseDuration(inputs.consumerCacheTtl) as number,
  };
}

/**
 * The current token's health, from the gateway's own record of it by ID (no whoami: that would pass for consumer
 * traffic on a gateway that cannot tell callers apart), and whether AWSCURRENT holds the value the ledger recorded.
 * An unreachable gateway is an error, not drift.
 */
async function health(backend: GatewayBackend, store: TokenStore, entry: LedgerEntry): Promise<TokenHealth> {
  const current = entry.state.current;
  if (!current) return TokenHealth.Revoked;
  const record = await backend.describe(current.tokenId);
  if (!record || !sameGatewayName(backend, record.name, current.gatewayName)) return TokenHealth.Revoked;
  if (record.status === TokenStatus.Expired) return TokenHealth.Expired;
  if (record.status !== TokenStatus.Active) return TokenHealth.Revoked;
  const stored = await store.read(entry.declaration.secretName, Stage.Current).catch(() => undefined);
  if (!stored || fingerprint(stored.token) !== current.valueSha256) return TokenHealth.Mismatch;
  return TokenHealth.Active;
}

/** Without a ledger entry: revoke what the secret's versions hold only where whoami names it as this token's. */
async function revokeStoredValues(backend: GatewayBackend, store: TokenStore, props: GatewayTokenOutputs): Promise<void> {
  for (const stage of [Stage.Current, Stage.Pending, Stage.Previous]) {
    const record = await store.read(props.secretName, stage).catch(() => undefined);
    if (!record) continue;
    const who = await backend.whoami(record.token).catch(() => undefined);
    if (who && who.name.startsWith(`${props.name}-`)) await backend.revoke(who.id);
  }
}

function toOutputs(inputs: GatewayTokenInputs, secretArn: string, token: LedgerToken): GatewayTokenOutputs {
  return {
    ...inputs,
    secretArn,
    tokenId: token.tokenId,
    expiresAt: token.expiresAt.toISOString(),
    tokenStatus: TokenHealth.Active,
  };
}

/** The engine's wire format (protobuf Struct) has no `undefined`: optional fields that are unset are left out. */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
