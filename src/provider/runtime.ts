/**
 * The GatewayToken provider, as the Pulumi engine drives it:
 *
 *   check   validate and default inputs                     (no remote call)
 *   create  mint on the gateway -> CreateSecret             (token revoked if the secret cannot be written)
 *   read    DescribeSecret + whoami with AWSCURRENT          (revoked/expired out of band -> drift; on a gateway
 *           whose traffic cannot tell callers apart, the admin API's status instead: a whoami would look like
 *           consumers moving to a draining token)
 *   diff    inputs vs state; drift -> update
 *   update  scopes or drift: mint -> AWSCURRENT, old token kept live as AWSPREVIOUS for the rotator to retire
 *           ttl/fraction: tags only
 *   delete  revoke every recorded token -> whoami 401 -> DeleteSecret
 *
 * This module is bundled into dist/provider-runtime.js and loaded by the thin shell that Pulumi serialises into
 * state (gateway-token.ts), so no SDK client or credential is ever captured in a closure.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { randomUUID } from "node:crypto";
import { Clock, systemClock } from "../domain/clock";
import { parseDuration } from "../domain/duration";
import { TokenOpsError, ValidationError } from "../domain/errors";
import { Sensitive } from "../domain/sensitive";
import { GatewayBackend, IssuedToken, ownUserAgent, TokenStatus } from "../gateway/backend";
import { InvalidTokenError, TokenExpiredError } from "../gateway/errors";
import { createBackend } from "../gateway/factory";
import { mintUnique, revokeAllNamed, revokeOnFailure } from "../gateway/minting";
import { abortRotation } from "../rotation/steps";
import { metadataForRecord, Tag, TokenMetadata } from "../store/metadata";
import { TokenRecord } from "../store/record";
import { SecretsManagerTokenStore } from "../store/secrets-manager-store";
import { writeAsCurrent } from "../store/promote";
import { Stage, StoredSecret, TokenStore } from "../store/token-store";
import { checkInputs, GatewayTokenInputs } from "./inputs";
import { GatewayTokenOutputs, REPLACE_ON_CHANGE, TokenHealth, UPDATE_IN_PLACE } from "./outputs";

/** What the provider talks to; injected so that tests can put faults between it and its peers. */
export interface ProviderDependencies {
  backend(inputs: GatewayTokenInputs): GatewayBackend;
  store(inputs: GatewayTokenInputs): TokenStore;
  readonly clock: Clock;
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
  store: (inputs) =>
    new SecretsManagerTokenStore({
      environment: inputs.environment,
      clientConfig: inputs.awsRegion ? { region: inputs.awsRegion } : {},
    }),
  clock: systemClock,
};

export type ProviderRuntime = Required<Pick<dynamic.ResourceProvider, "check" | "diff" | "create" | "read" | "update" | "delete">>;

export function createProviderRuntime(deps: ProviderDependencies = defaultDependencies): ProviderRuntime {
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
      const updates = UPDATE_IN_PLACE.filter((key) => !sameValue(olds[key], news[key]));
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
      const backend = deps.backend(inputs);
      // Look before minting: a name clash is refused without creating anything.
      const existing = await store.describe(inputs.secretName);
      if (existing && !existing.deletedAt) {
        throw new TokenOpsError("secret_exists", `secret ${inputs.secretName} already exists`, {
          hint: "another stack or an earlier, lost state owns it: destroy it there, delete the secret, or set secretName",
        });
      }
      if (existing && existing.tags[Tag.TokenName] !== inputs.name) {
        throw new TokenOpsError("secret_exists", `secret ${inputs.secretName} is scheduled for deletion and belongs to another token`, {
          hint: "choose another secretName or wait until its recovery window ends",
        });
      }
      const now = deps.clock.now();
      const issued = await mint(backend, inputs, now);
      const record = toRecord(inputs, issued, backend.kind, now);
      const stored = await revokeOnFailure(backend, issued.metadata.id, async () => {
        if (!existing) return store.create(inputs.secretName, record, toMetadata(inputs, record, {}));
        // Destroyed earlier with a recovery window: take the secret back rather than failing on its name.
        await store.restore(inputs.secretName);
        await writeAsCurrent(store, inputs.secretName, randomUUID(), record, existing.stages.AWSCURRENT);
        await store.setMetadata(inputs.secretName, toMetadata(inputs, record, {}));
        return (await store.describe(inputs.secretName)) as StoredSecret;
      });
      return { id: inputs.secretName, outs: definedOnly(toOutputs(inputs, stored.arn, record)) };
    },

    async read(id, props: GatewayTokenOutputs) {
      const store = deps.store(props);
      const secret = await store.describe(props.secretName);
      // Deleted out of band: the resource is gone, and the next `pulumi up` creates it again.
      if (!secret || secret.deletedAt) return { id: undefined, props: {} };
      const current = await store.read(props.secretName, Stage.Current);
      if (!current) {
        throw new TokenOpsError("corrupt_secret", `secret ${props.secretName} has no AWSCURRENT version`, {
          hint: "move AWSCURRENT back to a valid version (aws secretsmanager update-secret-version-stage) or delete the secret and run pulumi up",
        });
      }
      const backend = deps.backend(props);
      // Where a whoami would pass for consumer traffic (and could end a drain early), ask the admin API instead.
      const tokenStatus = backend.trafficShowsCaller ? await health(backend, current) : await statusById(backend, current);
      return { id, props: definedOnly({ ...props, secretArn: secret.arn, tokenStatus } satisfies GatewayTokenOutputs) };
    },

    async update(_id, olds: GatewayTokenOutputs, raw: GatewayTokenInputs) {
      const inputs = validated(raw);
      const store = deps.store(inputs);
      const backend = deps.backend(inputs);
      const secret = await requireSecret(store, inputs.secretName);
      const current = await store.read(inputs.secretName, Stage.Current);
      const needsNewToken = !sameValue(olds.scopes, inputs.scopes) || olds.tokenStatus !== TokenHealth.Active || !current;
      if (!needsNewToken) {
        // TTL, fraction and the like are metadata: the live token is untouched.
        const meta = secret.metadata;
        if ("problems" in meta) throw corruptTags(inputs.secretName, meta.problems);
        await store.setMetadata(inputs.secretName, { ...meta, ttlSeconds: ttlSeconds(inputs), rotationFraction: inputs.rotationFraction });
        return { outs: definedOnly({ ...olds, ...inputs } satisfies GatewayTokenOutputs) };
      }
      const now = deps.clock.now();
      const meta = secret.metadata;
      // A rotation the rotator has started but not promoted would be superseded by this token: undo it first.
      if (!("problems" in meta) && meta.rotation) await abortRotation(store, backend, secret, meta);
      // Dual-active: the old token stays valid as AWSPREVIOUS until the rotator has seen consumers move off it.
      // A token two generations old would drop out of every stage, so it is retired now.
      const retiring = current && (await health(backend, current)) === TokenHealth.Active ? current : undefined;
      const older = !("problems" in meta) ? meta.retiringTokenId : undefined;
      if (older && older !== retiring?.tokenId) await backend.revoke(older);
      const issued = await mint(backend, inputs, now);
      const record = toRecord(inputs, issued, backend.kind, now);
      await revokeOnFailure(backend, issued.metadata.id, async () => {
        await writeAsCurrent(store, inputs.secretName, randomUUID(), record, secret.stages.AWSCURRENT);
        await store.setMetadata(
          inputs.secretName,
          toMetadata(inputs, record, retiring ? { retiringTokenId: retiring.tokenId, retiringExpiresAt: retiring.expiresAt, promotedAt: now } : {}),
        );
      });
      return { outs: definedOnly(toOutputs(inputs, secret.arn, record)) };
    },

    async delete(_id, props: GatewayTokenOutputs) {
      const store = deps.store(props);
      const backend = deps.backend(props);
      const secret = await store.describe(props.secretName);
      if (!secret || secret.deletedAt) return;
      const records: TokenRecord[] = [];
      for (const stage of [Stage.Current, Stage.Pending, Stage.Previous]) {
        if (!secret.stages[stage]) continue;
        const record = await store.read(props.secretName, stage);
        if (record) records.push(record);
      }
      const ids = new Set(records.map((r) => r.tokenId));
      for (const key of [Tag.TokenId, Tag.RetiringTokenId]) if (secret.tags[key]) ids.add(secret.tags[key]);
      for (const tokenId of ids) await backend.revoke(tokenId);
      // A rotation may have minted a token that never reached the secret: it is found by its recorded name.
      if (secret.tags[Tag.RotationMintName]) await revokeAllNamed(backend, secret.tags[Tag.RotationMintName], undefined);
      // Keep the secret (the only record of these tokens) unless the gateway really refuses every one of them.
      for (const record of records) {
        if ((await health(backend, record)) === TokenHealth.Active) {
          throw new TokenOpsError("revoke_unconfirmed", `token ${record.tokenId} is still accepted after revocation`, {
            hint: `the secret ${props.secretName} was kept; revoke the token on ${backend.url} by hand, then run pulumi destroy again`,
          });
        }
      }
      await store.delete(props.secretName, { recoveryWindowDays: props.recoveryWindowDays });
    },
  };
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

function mint(backend: GatewayBackend, inputs: GatewayTokenInputs, now: Date): Promise<IssuedToken> {
  return mintUnique(backend, {
    declaredName: inputs.name,
    scopes: inputs.scopes,
    expiresAt: new Date(now.getTime() + ttlSeconds(inputs) * 1000),
    now,
  });
}

/** Whether the gateway accepts a stored token. Any other failure (unreachable gateway) is an error, not drift. */
async function health(backend: GatewayBackend, record: TokenRecord): Promise<TokenHealth> {
  try {
    const who = await backend.whoami(record.token);
    if (who.id !== record.tokenId) {
      throw new TokenOpsError("corrupt_secret", `the stored token answers as ${who.id}, but its record says ${record.tokenId}`, {
        hint: "the secret was edited by hand; run pulumi up after restoring the right version",
      });
    }
    return TokenHealth.Active;
  } catch (error) {
    if (error instanceof TokenExpiredError) return TokenHealth.Expired;
    if (error instanceof InvalidTokenError) return TokenHealth.Revoked;
    throw error;
  }
}

/** The token's status from the gateway's admin API, without using the token itself. */
async function statusById(backend: GatewayBackend, record: TokenRecord): Promise<TokenHealth> {
  const status = (await backend.describe(record.tokenId))?.status;
  if (status === TokenStatus.Active) return TokenHealth.Active;
  return status === TokenStatus.Expired ? TokenHealth.Expired : TokenHealth.Revoked;
}

async function requireSecret(store: TokenStore, name: string): Promise<StoredSecret> {
  const secret = await store.describe(name);
  if (!secret || secret.deletedAt) {
    throw new TokenOpsError("secret_missing", `secret ${name} does not exist`, {
      hint: "run `pulumi refresh` so that Pulumi sees it is gone, then `pulumi up` to create it again",
    });
  }
  return secret;
}

function corruptTags(name: string, problems: readonly string[]): TokenOpsError {
  return new TokenOpsError("corrupt_secret", `secret ${name} has bad metadata tags: ${problems.join("; ")}`, {
    hint: "restore the tags or run `pulumi up` after `pulumi refresh`; do not edit managed secrets by hand",
  });
}

function toRecord(inputs: GatewayTokenInputs, issued: IssuedToken, backend: string, now: Date): TokenRecord {
  return {
    token: issued.value,
    tokenId: issued.metadata.id,
    gatewayTokenName: issued.metadata.name,
    name: inputs.name,
    environment: inputs.environment,
    gatewayUrl: inputs.gatewayUrl,
    backend,
    scopes: [...issued.metadata.scopes],
    issuedAt: now,
    expiresAt: issued.metadata.expiresAt ?? new Date(now.getTime() + ttlSeconds(inputs) * 1000),
  };
}

function toMetadata(
  inputs: GatewayTokenInputs,
  record: TokenRecord,
  retiring: { retiringTokenId?: string; retiringExpiresAt?: Date; promotedAt?: Date },
): TokenMetadata {
  return metadataForRecord(record, { ttlSeconds: ttlSeconds(inputs), rotationFraction: inputs.rotationFraction }, retiring);
}

function toOutputs(inputs: GatewayTokenInputs, secretArn: string, record: TokenRecord): GatewayTokenOutputs {
  return {
    ...inputs,
    secretArn,
    tokenId: record.tokenId,
    expiresAt: record.expiresAt.toISOString(),
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
