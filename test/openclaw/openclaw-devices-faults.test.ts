import { inspect } from "node:util";
import { EnvironmentMismatchError } from "../../src/domain/errors";
import { Sensitive } from "../../src/domain/sensitive";
import { ownUserAgent } from "../../src/gateway/backend";
import {
  AmbiguousOutcomeError,
  GatewayUnavailableError,
  InsufficientScopeError,
  InvalidTokenError,
} from "../../src/gateway/errors";
import { serializeCredential } from "../../src/gateway/openclaw/credential";
import { DeviceIdentity } from "../../src/gateway/openclaw/device-identity";
import { AdminRpcDisabledError, PairingMismatchError } from "../../src/gateway/openclaw/errors";
import { OpenClawDevicesGateway, OpenClawDevicesOptions } from "../../src/gateway/openclaw/openclaw-devices";

/**
 * Failure semantics of the openclaw-devices backend that a healthy real gateway cannot produce on demand: a fake
 * WebSocket peer and a fake admin RPC route, scripted per test.
 */

const ADMIN_TOKEN = "shared-admin-secret-0123456789";
const DEVICE_TOKEN = "device-token-secret-abcdefghij";
const HOUR = 3600_000;

type Frame = { type: string; id: string; method: string; params: Record<string, unknown> };
type Peer = (frame: Frame, socket: FakeSocket) => void;

interface FakeSocket {
  reply(frame: unknown): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class whose peer sends connect.challenge on open and then runs `peer` on every client frame. */
function fakeWebSocket(peers: Peer[] | Peer, opened: string[]): typeof WebSocket {
  let n = 0;
  return class {
    private readonly listeners = new Map<string, Array<(event: unknown) => void>>();
    private closed = false;
    private readonly peer: Peer;
    constructor(url: string) {
      opened.push(url);
      this.peer = Array.isArray(peers) ? peers[Math.min(n++, peers.length - 1)] : peers;
      setImmediate(() => {
        if (this.peer === refuseTransport) return this.emit("error", { message: "connect ECONNREFUSED" }), this.close(1006);
        this.emit("open", {});
        this.emit("message", { data: JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "nonce-1", ts: Date.now() } }) });
      });
    }
    addEventListener(type: string, listener: (event: unknown) => void): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }
    send(data: string): void {
      this.peer(JSON.parse(data) as Frame, this);
    }
    reply(frame: unknown): void {
      setImmediate(() => !this.closed && this.emit("message", { data: JSON.stringify(frame) }));
    }
    close(code = 1000, reason = ""): void {
      if (this.closed) return;
      this.closed = true;
      setImmediate(() => this.emit("close", { code, reason }));
    }
    private emit(type: string, event: unknown): void {
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    }
  } as unknown as typeof WebSocket;
}

/** A peer that never gets a socket open (connection refused). */
const refuseTransport: Peer = () => undefined;

const helloOk = (frame: Frame, extra: Record<string, unknown> = {}) => ({
  type: "res",
  id: frame.id,
  ok: true,
  payload: { type: "hello-ok", protocol: 4, auth: { role: "operator", scopes: frame.params.scopes, ...extra } },
});

const refusal = (frame: Frame, error: Record<string, unknown>) => ({ type: "res", id: frame.id, ok: false, error });

/** A fake admin RPC route: `handle(method, params)` returns [status, body]. Records every call. */
function fakeAdmin(handle: (method: string, params: Record<string, unknown>) => [number, unknown], calls: string[]): typeof fetch {
  return (async (_input: string | URL | Request, init?: RequestInit) => {
    const { method, params } = JSON.parse(String(init?.body)) as { method: string; params: Record<string, unknown> };
    calls.push(method);
    const [status, body] = handle(method, params);
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
  }) as typeof fetch;
}

const emptyList = (method: string): [number, unknown] =>
  method === "device.pair.list" ? [200, { ok: true, payload: { pending: [], paired: [] } }] : [200, { ok: true, payload: {} }];

function backendWith(overrides: Partial<OpenClawDevicesOptions>): OpenClawDevicesGateway {
  return new OpenClawDevicesGateway({
    url: "http://127.0.0.1:1",
    environment: "dev",
    adminToken: new Sensitive(ADMIN_TOKEN),
    userAgent: ownUserAgent("rotator"),
    sleep: async () => undefined,
    retry: { maxAttempts: 3 },
    fetch: fakeAdmin(emptyList, []),
    ...overrides,
  });
}

function credentialValue(overrides: { expiresAt?: Date; environment?: "dev" | "prod" } = {}): Sensitive {
  const identity = DeviceIdentity.generate();
  return serializeCredential({
    deviceId: identity.deviceId,
    deviceToken: new Sensitive(DEVICE_TOKEN),
    identity,
    role: "operator",
    scopes: ["operator.read"],
    name: "svc-20261121t120000z-abcdef",
    expiresAt: overrides.expiresAt ?? new Date(Date.now() + HOUR),
    environment: overrides.environment ?? "dev",
    client: { id: "cli", mode: "cli", platform: "linux" },
  });
}

const mintRequest = { name: "svc-20261121t120000z-abcdef", scopes: ["operator.read"], expiresAt: new Date(Date.now() + HOUR) };

describe("OpenClawDevicesGateway faults", () => {
  describe("whoami", () => {
    it("signs the challenge with the device token and presents the credential's client metadata", async () => {
      // Prepare
      let connect: Frame | undefined;
      const backend = backendWith({ WebSocket: fakeWebSocket((f, s) => ((connect = f), s.reply(helloOk(f))), []) });

      // Act
      await backend.whoami(credentialValue());

      // Assess
      expect(connect?.method).toBe("connect");
      expect(connect?.params).toMatchObject({
        minProtocol: 4,
        maxProtocol: 4,
        role: "operator",
        scopes: ["operator.read"],
        auth: { token: DEVICE_TOKEN, deviceToken: DEVICE_TOKEN },
        client: { id: "cli", mode: "cli", platform: "linux", displayName: "svc-20261121t120000z-abcdef" },
        device: { nonce: "nonce-1" },
      });
    });

    it("keeps the device token hello-ok echoes out of the session's hello and its inspection", async () => {
      // Prepare
      const backend = backendWith({ WebSocket: fakeWebSocket((f, s) => s.reply(helloOk(f, { deviceToken: DEVICE_TOKEN })), []) });

      // Act
      const session = await backend.connect(credentialValue());

      // Assess
      expect(session.hello.auth).not.toHaveProperty("deviceToken");
      expect(session.issuedDeviceToken?.reveal()).toBe(DEVICE_TOKEN);
      expect(`${inspect(session, { depth: 10 })} ${JSON.stringify(session.hello)}`).not.toContain(DEVICE_TOKEN);
      await session.close();
    });

    it("turns a refused device token into InvalidTokenError, with anything the gateway echoes scrubbed", async () => {
      // Prepare
      const backend = backendWith({
        WebSocket: fakeWebSocket(
          (f, s) => s.reply(refusal(f, { code: "INVALID_REQUEST", message: `unauthorized: ${DEVICE_TOKEN} revoked`, details: { code: "AUTH_DEVICE_TOKEN_MISMATCH" } })),
          [],
        ),
      });

      // Act
      const error = await backend.whoami(credentialValue()).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(String(error)).toMatch(/AUTH_DEVICE_TOKEN_MISMATCH/);
      expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain(DEVICE_TOKEN);
    });

    it("reports an auth lockout as GatewayUnavailableError, not as an invalid token, and does not wait 5 minutes", async () => {
      // Prepare
      const opened: string[] = [];
      const lockout = { code: "INVALID_REQUEST", message: "too many failed authentication attempts", retryable: true, retryAfterMs: 297_000, details: { code: "AUTH_RATE_LIMITED" } };
      const backend = backendWith({ WebSocket: fakeWebSocket((f, s) => s.reply(refusal(f, lockout)), opened) });

      // Act
      const error = await backend.whoami(credentialValue()).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(GatewayUnavailableError);
      expect(error).not.toBeInstanceOf(InvalidTokenError);
      expect(opened).toHaveLength(1);
    });

    it("retries while the gateway is still starting (UNAVAILABLE startup-sidecars)", async () => {
      // Prepare
      const opened: string[] = [];
      const starting = { code: "UNAVAILABLE", message: "gateway starting; retry shortly", retryable: true, retryAfterMs: 500, details: { reason: "startup-sidecars" } };
      const backend = backendWith({
        WebSocket: fakeWebSocket([(f, s) => s.reply(refusal(f, starting)), (f, s) => s.reply(helloOk(f))], opened),
      });

      // Act
      const who = await backend.whoami(credentialValue());

      // Assess
      expect(who.scopes).toEqual(["operator.read"]);
      expect(opened).toHaveLength(2);
    });

    it("gives up with GatewayUnavailableError when the gateway cannot be reached", async () => {
      // Prepare
      const opened: string[] = [];
      const backend = backendWith({ WebSocket: fakeWebSocket(refuseTransport, opened) });

      // Act
      const error = await backend.whoami(credentialValue()).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(GatewayUnavailableError);
      expect(opened).toEqual(["ws://127.0.0.1:1", "ws://127.0.0.1:1", "ws://127.0.0.1:1"]);
    });

    it("refuses a credential of another environment before any call", async () => {
      // Prepare
      const opened: string[] = [];
      const backend = backendWith({ WebSocket: fakeWebSocket((f, s) => s.reply(helloOk(f)), opened) });

      // Act / Assess
      await expect(backend.whoami(credentialValue({ environment: "prod" }))).rejects.toBeInstanceOf(EnvironmentMismatchError);
      expect(opened).toEqual([]);
    });
  });

  describe("mint", () => {
    it("removes what it may have paired when the connection drops after the pairing connect was sent", async () => {
      // Prepare
      const calls: string[] = [];
      const backend = backendWith({
        WebSocket: fakeWebSocket((_f, s) => s.close(1006), []),
        fetch: fakeAdmin(emptyList, calls),
      });

      // Act
      const error = await backend.mint(mintRequest).catch((e: unknown) => e);

      // Assess: nothing is paired now, so the outcome is known: unavailable, not ambiguous.
      expect(error).toBeInstanceOf(GatewayUnavailableError);
      expect(error).not.toBeInstanceOf(AmbiguousOutcomeError);
      expect(String(error)).toMatch(/half-paired device was removed/);
      expect(calls).toContain("device.pair.list");
    });

    it("is ambiguous when the clean-up cannot reach the gateway either", async () => {
      // Prepare
      const backend = backendWith({
        WebSocket: fakeWebSocket((_f, s) => s.close(1006), []),
        fetch: (async () => {
          throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
        }) as typeof fetch,
      });

      // Act / Assess
      await expect(backend.mint(mintRequest)).rejects.toBeInstanceOf(AmbiguousOutcomeError);
    });

    it("removes the device again when the gateway grants other scopes than asked", async () => {
      // Prepare
      const calls: string[] = [];
      let deviceId = "";
      const backend = backendWith({
        WebSocket: fakeWebSocket((f, s) => {
          deviceId = (f.params.device as { id: string }).id;
          s.reply({ ...helloOk(f), payload: { type: "hello-ok", protocol: 4, auth: { role: "operator", scopes: [], deviceToken: DEVICE_TOKEN } } });
        }, []),
        fetch: fakeAdmin(
          (method) =>
            method === "device.pair.list" && !calls.includes("device.pair.remove")
              ? [200, { ok: true, payload: { pending: [], paired: [{ deviceId, tokens: [] }] } }]
              : emptyList(method),
          calls,
        ),
      });

      // Act
      const error = await backend.mint(mintRequest).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(PairingMismatchError);
      expect(calls).toContain("device.pair.remove");
      expect(String(error)).not.toContain(DEVICE_TOKEN);
    });

    it("approves only the pending request its own connect opened", async () => {
      // Prepare
      const calls: string[] = [];
      const backend = backendWith({
        WebSocket: fakeWebSocket(
          (f, s) => s.reply(refusal(f, { code: "NOT_PAIRED", message: "pairing required", details: { code: "PAIRING_REQUIRED", reason: "not-paired", requestId: "req-1" } })),
          [],
        ),
        fetch: fakeAdmin(
          (method) =>
            method === "device.pair.list"
              ? [200, { ok: true, payload: { pending: [{ requestId: "req-1", deviceId: "someone-else", role: "operator", scopes: ["operator.read"] }], paired: [] } }]
              : emptyList(method),
          calls,
        ),
      });

      // Act
      const error = await backend.mint(mintRequest).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(PairingMismatchError);
      expect(calls).not.toContain("device.pair.approve");
    });
  });

  describe("admin RPC", () => {
    it("says how to enable the admin-http-rpc plugin when its route is missing", async () => {
      // Prepare
      const backend = backendWith({ fetch: fakeAdmin(() => [404, "Not Found"], []) });

      // Act
      const error = await backend.describe("a".repeat(64)).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AdminRpcDisabledError);
      expect(String(error)).toMatch(/openclaw plugins enable admin-http-rpc/);
    });

    it("maps FORBIDDEN (HTTP 500) to InsufficientScopeError with the missing scope", async () => {
      // Prepare
      const forbidden = { ok: false, error: { code: "FORBIDDEN", message: "missing scope: operator.pairing", details: { code: "MISSING_SCOPE", missingScope: "operator.pairing" } } };
      const calls: string[] = [];
      const backend = backendWith({ fetch: fakeAdmin(() => [500, forbidden], calls) });

      // Act
      const error = await backend.findByName("x").catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(InsufficientScopeError);
      expect((error as InsufficientScopeError).requiredScope).toBe("operator.pairing");
      expect(calls).toHaveLength(1);
    });

    it("retries UNAVAILABLE and keeps the shared token out of every message", async () => {
      // Prepare
      const calls: string[] = [];
      const backend = backendWith({
        fetch: fakeAdmin(
          (method) =>
            calls.length === 1
              ? [503, { ok: false, error: { code: "UNAVAILABLE", message: `busy (${ADMIN_TOKEN})`, retryAfterMs: 10 } }]
              : emptyList(method),
          calls,
        ),
      });
      const failing = backendWith({
        fetch: fakeAdmin(() => [400, { ok: false, error: { code: "INVALID_REQUEST", message: `bad token ${ADMIN_TOKEN}` } }], []),
      });

      // Act
      const found = await backend.findByName("x");
      const error = await failing.findByName("x").catch((e: unknown) => e);

      // Assess
      expect(found).toEqual([]);
      expect(calls).toEqual(["device.pair.list", "device.pair.list"]);
      expect(String(error)).toMatch(/INVALID_REQUEST/);
      expect(String(error)).not.toContain(ADMIN_TOKEN);
    });

    it("reports a refused shared token as InvalidTokenError", async () => {
      const backend = backendWith({ fetch: fakeAdmin(() => [401, { error: { message: "Unauthorized", type: "unauthorized" } }], []) });
      await expect(backend.revoke("a".repeat(64))).rejects.toBeInstanceOf(InvalidTokenError);
    });
  });
});
