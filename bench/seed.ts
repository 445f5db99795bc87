/**
 * Bulk setup, straight through the SDK and the gateway's admin API: the same secrets (value, identity tags,
 * description) and the same ledger entries (declaration, idle state) the provider's create writes, without going
 * through it one token at a time. Nothing here is measured.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { TOKEN_PREFIX } from "../src/domain/environments";
import { Sensitive } from "../src/domain/sensitive";
import { Declaration, idleState, LedgerConflictError } from "../src/ledger/ledger";
import { ledgerToken } from "../src/rotation/steps";
import { DEFAULT_SETTINGS } from "../src/rotation/settings";
import { defaultSecretName, identityTags } from "../src/store/metadata";
import { serialiseRecord, TokenRecord } from "../src/store/record";
import { BenchEnvironment, DAY_MS, ENVIRONMENT, SDK_TIMEOUTS } from "./environment";
import { inParallel } from "./parallel";

/** Requests in flight while seeding. */
const SEED_CONCURRENCY = 16;
const TTL_DAYS = 30;
const SCOPES = ["run:jobs"];
const ROTATION_FRACTION = 0.8;

export interface SeededToken {
  readonly name: string;
  readonly secretName: string;
  readonly tokenId: string;
}

/** `${prefix}-00042`: valid token names that sort in creation order. */
export function tokenNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);
}

/**
 * `count` managed tokens that are not due (issued now, 30-day TTL): a secret and an idle ledger entry each, due in
 * 24 days, so that the ledger's due index does not list them. Their token IDs are not on the gateway, which a
 * scheduled run must never ask about.
 */
export async function seedIdleSecrets(env: BenchEnvironment, prefix: string, count: number): Promise<SeededToken[]> {
  const issuedAt = env.clock.now();
  return createTokens(env, tokenNames(prefix, count), () => ({
    token: new Sensitive(TOKEN_PREFIX[ENVIRONMENT] + randomBytes(24).toString("base64url")),
    tokenId: `tok_${randomBytes(8).toString("hex")}`,
    issuedAt,
  }));
}

/**
 * `count` tokens that are due now: each minted on the gateway (so that a rotation can later revoke and check it)
 * 25 days into a 30-day TTL, stored as AWSCURRENT and recorded idle in the ledger (due since day 24). Mints with the
 * gateway's added latency switched off.
 */
export async function seedDueTokens(env: BenchEnvironment, prefix: string, count: number): Promise<SeededToken[]> {
  const now = env.clock.now();
  const issuedAt = new Date(now.getTime() - 25 * DAY_MS);
  const expiresAt = new Date(issuedAt.getTime() + TTL_DAYS * DAY_MS);
  const admin = env.admin();
  const names = tokenNames(prefix, count);
  await env.setLatency(0);
  try {
    const minted = await inParallel(names, SEED_CONCURRENCY, (name) => admin.mint({ name: `${name}-seed`, scopes: SCOPES, expiresAt }));
    const byName = new Map(names.map((name, i) => [name, minted[i]]));
    return await createTokens(env, names, (name) => {
      const issued = byName.get(name)!;
      return { token: issued.value, tokenId: issued.metadata.id, issuedAt, gatewayTokenName: issued.metadata.name };
    });
  } finally {
    await env.setLatency(env.latencyMs);
  }
}

/** Entries in the ledger table (a consistent Scan, not measured): what the seeding left. */
export async function countLedgerEntries(env: BenchEnvironment): Promise<number> {
  const ledger = env.plainLedger();
  try {
    let n = 0;
    for await (const _ of ledger.list()) n++;
    return n;
  } finally {
    ledger.destroy();
  }
}

/**
 * Per token, what the provider's create leaves (src/provider/runtime.ts): the secret, created with the token as
 * AWSCURRENT in a version of its own and the identity tags, then the ledger entry with the token's declaration and an
 * idle state naming that version and the value's SHA-256, due at its fraction of the TTL (idleState).
 */
async function createTokens(
  env: BenchEnvironment,
  names: readonly string[],
  value: (name: string) => { token: Sensitive; tokenId: string; issuedAt: Date; gatewayTokenName?: string },
): Promise<SeededToken[]> {
  const client = new SecretsManagerClient(SDK_TIMEOUTS);
  const ledger = env.plainLedger();
  try {
    return await inParallel(names, SEED_CONCURRENCY, async (name) => {
      const v = value(name);
      const secretName = defaultSecretName(ENVIRONMENT, name);
      const record: TokenRecord = {
        token: v.token,
        tokenId: v.tokenId,
        gatewayTokenName: v.gatewayTokenName ?? `${name}-seed`,
        name,
        environment: ENVIRONMENT,
        gatewayUrl: env.gateway.url,
        backend: "documented-api",
        scopes: SCOPES,
        issuedAt: v.issuedAt,
        expiresAt: new Date(v.issuedAt.getTime() + TTL_DAYS * DAY_MS),
      };
      const versionId = randomUUID();
      const command = new CreateSecretCommand({
        Name: secretName,
        ClientRequestToken: versionId,
        SecretString: serialiseRecord(record),
        Description: `OpenClaw gateway token "${name}" (${ENVIRONMENT}), managed by openclaw-token-ops. Read the "token" field of AWSCURRENT.`,
        Tags: Object.entries(identityTags(ENVIRONMENT, name)).map(([Key, Value]) => ({ Key, Value })),
      });
      await withRetry(secretName, (error) => (error as { name?: string }).name === "ResourceExistsException", () => client.send(command));

      const declaration: Declaration = {
        name,
        secretName,
        environment: ENVIRONMENT,
        gatewayUrl: env.gateway.url,
        backend: "documented-api",
        scopes: SCOPES,
        allowAdminScope: false,
        ttlSeconds: TTL_DAYS * 86_400,
        rotationFraction: ROTATION_FRACTION,
        consumerCacheTtlSeconds: 3600,
      };
      const state = idleState(ledgerToken(record, versionId), declaration, DEFAULT_SETTINGS.expiryMarginMs);
      await withRetry(secretName, (error) => error instanceof LedgerConflictError, () => ledger.create({ declaration, state, lease: undefined }));
      return { name, secretName, tokenId: record.tokenId };
    });
  } finally {
    client.destroy();
    ledger.destroy();
  }
}

const SEED_ATTEMPTS = 8;

/**
 * moto under heavy parallel load now and then answers a request with an HTML 500 page, which the SDK cannot parse
 * and does not retry (CreateSecret: moto's secret dict is iterated on every create, O(N), and races with concurrent
 * creates: "dictionary changed size during iteration", about one attempt in ten near 10,000 secrets at 16 in
 * flight): try again, and take "already exists" after a retry as the earlier attempt's success.
 */
async function withRetry(secretName: string, exists: (error: unknown) => boolean, send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (attempt > 1 && exists(error)) return;
      if (attempt >= SEED_ATTEMPTS) {
        const status = (error as { $response?: { statusCode?: number } }).$response?.statusCode;
        throw new Error(`seeding ${secretName} failed ${attempt} times (last: HTTP ${status ?? "?"} ${name}: ${(error as Error).message.slice(0, 200)})`, { cause: error });
      }
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
