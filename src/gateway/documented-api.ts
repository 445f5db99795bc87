import { Environment, environmentOfToken, TOKEN_PREFIX } from "../domain/environments";
import { EnvironmentMismatchError } from "../domain/errors";
import { Sensitive } from "../domain/sensitive";
import {
  BackendKind,
  ConsumerSeen,
  GatewayBackend,
  IssuedToken,
  MintRequest,
  TokenIdentity,
  TokenMetadata,
  TrafficEntry,
} from "./backend";
import { GatewayRequestError } from "./errors";
import { HttpClient, HttpOptions } from "./http";

/** Settings of a client for a gateway that serves the documented token API. */
export interface DocumentedApiOptions extends Omit<HttpOptions, "baseUrl"> {
  readonly url: string;
  /** The environment this gateway serves: every token sent to it or minted by it must carry its prefix. */
  readonly environment: Environment;
  /** An `admin:*` token of this gateway, for the management calls. */
  readonly adminToken: Sensitive;
}

interface WireMetadata {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt?: string | null;
  suspendedAt?: string | null;
  status: TokenMetadata["status"];
}

/** The documented token API (docs/gateway-api.md), spoken over HTTP. */
export class DocumentedApiGateway implements GatewayBackend {
  readonly kind = BackendKind.DocumentedApi;
  readonly trafficShowsCaller = true;
  readonly namesAreFixed = true;
  readonly supportsSuspension = true;
  readonly url: string;
  private readonly http: HttpClient;

  constructor(private readonly options: DocumentedApiOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.http = new HttpClient({ ...options, baseUrl: this.url });
    this.assertSameEnvironment(options.adminToken, "the admin credential");
  }

  async whoami(token: Sensitive): Promise<TokenIdentity> {
    this.assertSameEnvironment(token, "the token");
    const body = await this.http.json<WireMetadata>({ method: "GET", path: "/v1/auth/whoami", token, idempotent: true });
    return toIdentity(body);
  }

  async mint(request: MintRequest): Promise<IssuedToken> {
    const body = await this.http.json<WireMetadata & { token: string }>({
      method: "POST",
      path: "/v1/admin/tokens",
      token: this.options.adminToken,
      body: { name: request.name, scopes: request.scopes, expiresAt: request.expiresAt.toISOString() },
      idempotent: false,
    });
    const value = new Sensitive(body.token);
    const minted = toMetadata(body);
    if (environmentOfToken(body.token) !== this.options.environment) {
      // Never keep a token that would cross an environment boundary: revoke it before reporting.
      await this.revoke(minted.id);
      throw new EnvironmentMismatchError(
        `the gateway at ${this.url} minted token ${minted.id} without the ${this.options.environment} prefix; it was revoked`,
        `point the ${this.options.environment} stack at the ${this.options.environment} gateway`,
      );
    }
    return { metadata: minted, value };
  }

  async describe(tokenId: string): Promise<TokenMetadata | undefined> {
    try {
      const body = await this.admin<WireMetadata>("GET", `/v1/admin/tokens/${encodeURIComponent(tokenId)}`, tokenId);
      return toMetadata(body);
    } catch (error) {
      if (error instanceof GatewayRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  async findByName(name: string): Promise<TokenMetadata[]> {
    const body = await this.http.json<{ tokens: WireMetadata[] }>({
      method: "GET",
      path: "/v1/admin/tokens",
      query: { name },
      token: this.options.adminToken,
      idempotent: true,
    });
    return body.tokens.map(toMetadata);
  }

  async revoke(tokenId: string): Promise<void> {
    try {
      await this.admin("POST", `/v1/admin/tokens/${encodeURIComponent(tokenId)}/revoke`, tokenId);
    } catch (error) {
      // A token the gateway does not know cannot be used either: that is the outcome revoke is for.
      if (error instanceof GatewayRequestError && error.status === 404) return;
      throw error;
    }
  }

  async traffic(tokenId: string, since: Date): Promise<TrafficEntry[]> {
    const body = await this.http.json<{ requests: Array<Omit<TrafficEntry, "at" | "userAgent"> & { at: string; userAgent: string | null }> }>({
      method: "GET",
      path: `/v1/admin/tokens/${encodeURIComponent(tokenId)}/requests`,
      query: { since: since.toISOString(), limit: "1000" },
      token: this.options.adminToken,
      idempotent: true,
      tokenId,
    });
    // A request sent without a User-Agent is a consumer's like any other: it is logged with null.
    return body.requests.map((r) => ({ ...r, at: new Date(r.at), userAgent: r.userAgent ?? "" }));
  }

  async consumers(tokenId: string, since?: Date): Promise<ConsumerSeen[]> {
    const body = await this.http.json<{ consumers: Array<Omit<ConsumerSeen, "firstSeenAt" | "lastSeenAt"> & { firstSeenAt: string; lastSeenAt: string }> }>({
      method: "GET",
      path: `/v1/admin/tokens/${encodeURIComponent(tokenId)}/consumers`,
      ...(since && { query: { since: since.toISOString() } }),
      token: this.options.adminToken,
      idempotent: true,
      tokenId,
    });
    return body.consumers.map((c) => ({ ...c, firstSeenAt: new Date(c.firstSeenAt), lastSeenAt: new Date(c.lastSeenAt) }));
  }

  async suspend(tokenId: string): Promise<TokenMetadata> {
    return toMetadata(await this.admin<WireMetadata>("POST", `/v1/admin/tokens/${encodeURIComponent(tokenId)}/suspend`, tokenId));
  }

  async reinstate(tokenId: string): Promise<TokenMetadata> {
    return toMetadata(await this.admin<WireMetadata>("POST", `/v1/admin/tokens/${encodeURIComponent(tokenId)}/reinstate`, tokenId));
  }

  private admin<T>(method: "GET" | "POST", path: string, tokenId: string): Promise<T> {
    return this.http.json<T>({ method, path, token: this.options.adminToken, idempotent: true, tokenId });
  }

  /** Refuses, before sending anything, to present a token of one environment to another's gateway. */
  private assertSameEnvironment(token: Sensitive, what: string): void {
    const env = environmentOfToken(token.reveal());
    if (env !== this.options.environment) {
      throw new EnvironmentMismatchError(
        `${what} is ${env ? `a ${env} token` : "not a gateway token (no known prefix)"}, but ${this.url} is the ${this.options.environment} gateway`,
        `use a ${this.options.environment} token (prefix ${TOKEN_PREFIX[this.options.environment]}) with this gateway`,
      );
    }
  }
}

function toIdentity(wire: WireMetadata): TokenIdentity {
  return {
    id: wire.id,
    name: wire.name,
    scopes: wire.scopes,
    expiresAt: wire.expiresAt ? new Date(wire.expiresAt) : undefined,
  };
}

function toMetadata(wire: WireMetadata): TokenMetadata {
  return {
    ...toIdentity(wire),
    createdAt: new Date(wire.createdAt),
    status: wire.status,
    lastUsedAt: wire.lastUsedAt ? new Date(wire.lastUsedAt) : undefined,
    ...(wire.revokedAt && { revokedAt: new Date(wire.revokedAt) }),
    ...(wire.suspendedAt && { suspendedAt: new Date(wire.suspendedAt) }),
  };
}
