/**
 * The consumer side: a service reads its gateway token from the secret's AWSCURRENT version and calls the gateway
 * with it. The value is cached for a while (one secret read per `cacheTtlMs`, not per call), and a 401 makes the
 * client read the secret again once and retry: after a rotation's old token is revoked, a consumer picks up the new
 * one by itself instead of failing until it is restarted (the guide's "service cached the old token").
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Sensitive } from "../domain/sensitive";
import { parseRecord } from "../store/record";

export interface GatewayTokenClientOptions {
  /** The token's secret, e.g. openclaw/prod/ci-runner (a stack exports it per token as `tokenSecrets`). */
  readonly secretName: string;
  /** @default a SecretsManagerClient with the SDK's usual settings */
  readonly secretsManager?: SecretsManagerClient;
  /** How long a value read from the secret is used before it is read again. @default 5 minutes */
  readonly cacheTtlMs?: number;
  /** The User-Agent of the client's calls: how the gateway's request log (and an audit) names this consumer. */
  readonly userAgent?: string;
  /**
   * Sent as X-OpenClaw-Consumer: this instance's identity (e.g. a task or pod ID), so that the rotator sees each
   * instance move to a new token instead of one address for all. @default none (the gateway uses address + User-Agent)
   */
  readonly consumer?: string;
  /** Where "now" comes from, for the cache. @default the system clock */
  readonly clock?: { now(): Date };
}

/** What a consumer needs from the secret's AWSCURRENT version. */
export interface CurrentToken {
  readonly token: Sensitive;
  readonly tokenId: string;
  readonly gatewayUrl: string;
  readonly expiresAt: Date;
}

const DEFAULT_CACHE_TTL_MS = 5 * 60_000;

export class GatewayTokenClient {
  private readonly secretsManager: SecretsManagerClient;
  private cached: { readonly value: CurrentToken; readonly readAt: number } | undefined;

  constructor(private readonly options: GatewayTokenClientOptions) {
    this.secretsManager = options.secretsManager ?? new SecretsManagerClient({});
  }

  /** The current token, from the cache while it is fresh. */
  async current(): Promise<CurrentToken> {
    const ttl = this.options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    if (this.cached && this.now() - this.cached.readAt < ttl) return this.cached.value;
    const out = await this.secretsManager.send(new GetSecretValueCommand({ SecretId: this.options.secretName, VersionStage: "AWSCURRENT" }));
    const record = parseRecord(out.SecretString ?? "", this.options.secretName, out.VersionId ?? "AWSCURRENT");
    const value: CurrentToken = { token: record.token, tokenId: record.tokenId, gatewayUrl: record.gatewayUrl.replace(/\/+$/, ""), expiresAt: record.expiresAt };
    this.cached = { value, readAt: this.now() };
    return value;
  }

  private now(): number {
    return this.options.clock ? this.options.clock.now().getTime() : Date.now();
  }

  /** Forgets the cached value: the next call reads the secret. */
  invalidate(): void {
    this.cached = undefined;
  }

  /**
   * A request to the token's gateway (`path` like /v1/jobs) with `Authorization: Bearer <token>`. On a 401 the
   * secret is read again and, if it holds another token by now, the request is sent once more with that one.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const first = await this.current();
    const response = await this.send(first, path, init);
    if (response.status !== 401) return response;
    this.invalidate();
    const fresh = await this.current();
    if (fresh.tokenId === first.tokenId) return response;
    await response.arrayBuffer();
    return this.send(fresh, path, init);
  }

  private send(current: CurrentToken, path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${current.token.reveal()}`);
    if (this.options.userAgent) headers.set("User-Agent", this.options.userAgent);
    if (this.options.consumer) headers.set("X-OpenClaw-Consumer", this.options.consumer);
    return fetch(`${current.gatewayUrl}${path}`, { ...init, headers });
  }
}
