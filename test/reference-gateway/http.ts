/** A small fetch wrapper for the reference-gateway suites: one call, parsed JSON, no retries. */
export interface ApiResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Sent verbatim as the Authorization header (to test malformed schemes). */
  readonly authorization?: string;
  readonly body?: unknown;
  readonly userAgent?: string;
}

export async function call<T = any>(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const authorization = options.authorization ?? (options.token === undefined ? undefined : `Bearer ${options.token}`);
  if (authorization !== undefined) headers.authorization = authorization;
  if (options.userAgent !== undefined) headers["user-agent"] = options.userAgent;
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text), headers: res.headers };
}

/** Creates a token through the admin API and returns its value and ID. */
export async function createToken(
  baseUrl: string,
  adminToken: string,
  request: { name: string; scopes: string[]; expiresAt?: string; expiresInSeconds?: number },
): Promise<{ id: string; token: string; [key: string]: unknown }> {
  const res = await call(baseUrl, "POST", "/v1/admin/tokens", { token: adminToken, body: request });
  if (res.status !== 201) throw new Error(`creating token ${request.name} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
