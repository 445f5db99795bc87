import { Sensitive } from "../../domain/sensitive";
import { AmbiguousOutcomeError, GatewayCallContext, GatewayUnavailableError, InvalidTokenError } from "../errors";
import { RetryPolicy } from "../http";
import { AdminRpcDisabledError, GatewayBusyError, rpcFailure, scrub } from "./errors";
import { withRetries } from "./retry";
import { isRecord, RpcMethod, WireError, WireErrorCode } from "./wire";

/**
 * Gateway RPC over HTTP with the gateway's shared token: `POST /api/v1/admin/rpc {method, params}` of the bundled
 * admin-http-rpc plugin (docs/plugins/admin-http-rpc.md). Shared-secret bearer auth gets the full operator scope
 * set there, which is what listing, approving and removing other devices needs. Its allowlist has
 * device.pair.list/approve/reject/remove (not rename, token.rotate or token.revoke), which is all this backend uses.
 *
 * Why HTTP and not the WebSocket: a shared-token WebSocket without a paired device identity gets no admin scopes,
 * and a device identity for the admin would itself need pairing (silently on loopback, by hand anywhere else).
 */
export const ADMIN_RPC_PATH = "/api/v1/admin/rpc";

export interface AdminRpcOptions {
  /** The gateway's HTTP(S) base URL. */
  readonly gatewayUrl: string;
  /** The gateway's shared secret (gateway.auth.token). */
  readonly adminToken: Sensitive;
  readonly userAgent: string;
  /** Per attempt. @default 10000 */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface AdminCall {
  readonly method: RpcMethod;
  readonly params: Record<string, unknown>;
  /** Whether repeating the call is harmless; a non-idempotent call whose answer is lost is ambiguous. */
  readonly idempotent: boolean;
  /** For error messages: the device the call is about. */
  readonly tokenId?: string;
}

/** Network failures where the request never reached the server. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

export class AdminRpcClient {
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AdminRpcOptions) {
    this.url = options.gatewayUrl.replace(/\/+$/, "") + ADMIN_RPC_PATH;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** Calls `method` and returns its payload; retries what is safe to retry (see AdminCall.idempotent). */
  call<T>(call: AdminCall): Promise<T> {
    const context: GatewayCallContext = {
      method: "POST",
      endpoint: `${ADMIN_RPC_PATH} ${call.method}`,
      gatewayUrl: this.options.gatewayUrl,
      tokenId: call.tokenId,
    };
    return withRetries(
      this.options.retry,
      this.options.sleep,
      () => this.attempt<T>(call, context),
      (error) => {
        if (error instanceof GatewayBusyError) return error.retryAfterMs ?? 0;
        if (error instanceof RetryableNetworkError) return 0;
        return undefined;
      },
    ).catch((error: unknown) => {
      if (error instanceof RetryableNetworkError) {
        throw new GatewayUnavailableError(context, `no answer (${error.detail})`, { cause: error.cause });
      }
      throw error;
    });
  }

  private async attempt<T>(call: AdminCall, context: GatewayCallContext): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.options.adminToken.reveal()}`,
          "User-Agent": this.options.userAgent,
          "Content-Type": "application/json",
          Accept: "application/json",
        },
        body: JSON.stringify({ method: call.method, params: call.params }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const code = networkCode(error);
      const detail = isTimeout(error) ? "timed out" : code || "network error";
      if (call.idempotent || NOT_SENT_CODES.has(code)) throw new RetryableNetworkError(detail, error);
      throw new AmbiguousOutcomeError(context, `no answer (${detail})`, error);
    }

    const body = await readJson(response);
    if (response.status === 401) {
      throw new InvalidTokenError(context, "the gateway refused its shared token (the backend's adminToken)");
    }
    if (response.status === 404 && !isRpcBody(body)) throw new AdminRpcDisabledError(context, 404);
    if (isRpcBody(body) && body.ok) return body.payload as T;
    const wire: WireError =
      isRpcBody(body) && body.error
        ? body.error
        : { code: `HTTP_${response.status}`, message: response.statusText, retryable: response.status >= 500 || response.status === 429 };
    // A 5xx on a non-idempotent call may have acted, unless the gateway says it refused up front
    // (UNAVAILABLE: starting, suspended, rate-limited) or refused the caller (FORBIDDEN answers 500 here).
    if (!call.idempotent && response.status >= 500 && wire.code !== WireErrorCode.Unavailable && wire.code !== WireErrorCode.Forbidden) {
      throw new AmbiguousOutcomeError(context, `answered ${response.status}: ${scrub(wire.message ?? "", [this.options.adminToken])}`);
    }
    throw rpcFailure(context, wire, [this.options.adminToken]);
  }
}

/** A transport failure that retrying may fix; replaced by GatewayUnavailableError when the retries run out. */
class RetryableNetworkError extends Error {
  constructor(
    readonly detail: string,
    override readonly cause: unknown,
  ) {
    super(detail);
  }
}

interface RpcBody {
  ok: boolean;
  payload?: unknown;
  error?: WireError;
}

function isRpcBody(value: unknown): value is RpcBody {
  return isRecord(value) && typeof value.ok === "boolean";
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return cause?.code ?? (error as { code?: string })?.code ?? "";
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}
