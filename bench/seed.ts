/**
 * Bulk setup, straight through the SDK and the gateway's admin API: the same secrets (value, tags, description)
 * the provider writes, without going through it one token at a time. Nothing here is measured.
 */
import { randomBytes } from "node:crypto";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { TOKEN_PREFIX } from "../src/domain/environments";
import { Sensitive } from "../src/domain/sensitive";
import { defaultSecretName, metadataForRecord, metadataToTags } from "../src/store/metadata";
import { serialiseRecord, TokenRecord } from "../src/store/record";
import { BenchEnvironment, DAY_MS, ENVIRONMENT, SDK_TIMEOUTS } from "./environment";
import { inParallel } from "./parallel";

/** Requests in flight while seeding. */
const SEED_CONCURRENCY = 16;
const TTL_DAYS = 30;
const SCOPES = ["run:jobs"];

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
 * `count` managed secrets that are not due (issued now, 30-day TTL): a scan must decide them from their tags
 * alone. Their token IDs are not on the gateway, which a scan must never ask about.
 */
export async function seedIdleSecrets(env: BenchEnvironment, prefix: string, count: number): Promise<SeededToken[]> {
  const issuedAt = env.clock.now();
  return createSecrets(env, tokenNames(prefix, count), () => ({
    token: new Sensitive(TOKEN_PREFIX[ENVIRONMENT] + randomBytes(24).toString("base64url")),
    tokenId: `tok_${randomBytes(8).toString("hex")}`,
    issuedAt,
  }));
}

/**
 * `count` tokens that are due now: each minted on the gateway (so that a rotation can later revoke and check it)
 * 25 days into a 30-day TTL, and stored as AWSCURRENT. Mints with the gateway's added latency switched off.
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
    return await createSecrets(env, names, (name) => {
      const issued = byName.get(name)!;
      return { token: issued.value, tokenId: issued.metadata.id, issuedAt, gatewayTokenName: issued.metadata.name };
    });
  } finally {
    await env.setLatency(env.latencyMs);
  }
}

async function createSecrets(
  env: BenchEnvironment,
  names: readonly string[],
  value: (name: string) => { token: Sensitive; tokenId: string; issuedAt: Date; gatewayTokenName?: string },
): Promise<SeededToken[]> {
  const client = new SecretsManagerClient(SDK_TIMEOUTS);
  try {
    return await inParallel(names, SEED_CONCURRENCY, async (name) => {
      const v = value(name);
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
      const meta = metadataForRecord(record, { ttlSeconds: TTL_DAYS * 86_400, rotationFraction: 0.8 });
      const secretName = defaultSecretName(ENVIRONMENT, name);
      const command = new CreateSecretCommand({
        Name: secretName,
        SecretString: serialiseRecord(record),
        Description: `OpenClaw gateway token "${name}" (${ENVIRONMENT}), managed by openclaw-token-ops. Read the "token" field of AWSCURRENT.`,
        Tags: Object.entries(metadataToTags(meta)).map(([Key, Value]) => ({ Key, Value })),
      });
      await sendWithRetry(client, command, secretName);
      return { name, secretName, tokenId: record.tokenId };
    });
  } finally {
    client.destroy();
  }
}

const SEED_ATTEMPTS = 4;

/**
 * moto under heavy parallel load now and then answers a request with an HTML 500 page, which the SDK cannot parse
 * and does not retry: try again, and take "already exists" after a retry as the earlier attempt's success.
 */
async function sendWithRetry(client: SecretsManagerClient, command: CreateSecretCommand, secretName: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(command);
      return;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (attempt > 1 && name === "ResourceExistsException") return;
      if (attempt >= SEED_ATTEMPTS) {
        const status = (error as { $response?: { statusCode?: number } }).$response?.statusCode;
        throw new Error(`seeding ${secretName} failed ${attempt} times (last: HTTP ${status ?? "?"} ${name}: ${(error as Error).message.slice(0, 200)})`, { cause: error });
      }
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
