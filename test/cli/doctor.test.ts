/**
 * `openclaw-tokens doctor`, one scenario per row of the guide's failure-mode table, against the reference gateway
 * (a real server on a loopback port). The token reaches the CLI on stdin or OPENCLAW_GATEWAY_TOKEN only.
 */
import { createServer, IncomingMessage, request, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { ReferenceGateway, startReferenceGateway } from "../support/reference-gateway";
import { CliRun, runCli, TOKEN_VALUE } from "./run-cli";

jest.setTimeout(60_000);

interface CheckJson {
  readonly id: string;
  readonly status: "ok" | "problem" | "info" | "skipped";
  readonly message: string;
  readonly fix?: string;
}
interface DoctorJson {
  readonly gateway: { url: string; environment: string | null };
  readonly token: { source: string; length: number; prefix: string | null; environment: string | null; id: string | null };
  readonly checks: CheckJson[];
  readonly problems: number;
  readonly ok: boolean;
}

const outputs: string[] = [];
const values: string[] = [];

let dev: ReferenceGateway;
let prod: ReferenceGateway;

beforeAll(async () => {
  [dev, prod] = await Promise.all([startReferenceGateway(), startReferenceGateway({ environment: "prod" })]);
});
afterAll(async () => {
  await Promise.all([dev?.stop(), prod?.stop()]);
});

/** A token minted on `gateway` through its admin API. */
async function mint(gateway: ReferenceGateway, scopes: string[], expiresInSeconds?: number): Promise<{ id: string; token: string }> {
  const res = await fetch(`${gateway.url}/v1/admin/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${gateway.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "doctor-test", scopes, ...(expiresInSeconds && { expiresInSeconds }) }),
  });
  const body = (await res.json()) as { id: string; token: string };
  values.push(body.token);
  return body;
}

async function doctor(args: readonly string[], token: { stdin?: string; env?: string }): Promise<CliRun> {
  const run = await runCli(undefined, ["doctor", ...args], { bare: true, stdin: token.stdin, env: token.env === undefined ? {} : { OPENCLAW_GATEWAY_TOKEN: token.env } });
  outputs.push(run.stdout, run.stderr);
  return run;
}

async function doctorJson(gatewayUrl: string, token: { stdin?: string; env?: string }, extra: readonly string[] = []): Promise<{ run: CliRun; report: DoctorJson; check: (id: string) => CheckJson }> {
  const run = await doctor(["--gateway-url", gatewayUrl, "--json", ...extra], token);
  const report = JSON.parse(run.stdout) as DoctorJson;
  const check = (id: string) => {
    const found = report.checks.find((c) => c.id === id);
    if (!found) throw new Error(`no check ${id} in ${run.stdout}`);
    return found;
  };
  return { run, report, check };
}

describe("a token that works", () => {
  it("passes every check, names its ID, scopes and expiry, and exits 0", async () => {
    const { id, token } = await mint(dev, ["run:jobs", "read:jobs"], 3600);

    const run = await doctor(["--gateway-url", dev.url, "--endpoint", "POST /v1/jobs"], { stdin: `${token}\n` });

    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(new RegExp(`^token +from stdin, ${token.length} characters, ${id} \\(the value is never printed\\)$`, "m"));
    expect(run.stdout).toMatch(new RegExp(`^ok +whoami +valid: token ${id} \\(doctor-test\\), scopes read:jobs, run:jobs, expires \\d{4}-`, "m"));
    expect(run.stdout).toMatch(/^ok +format +length and characters of a whole gateway token/m);
    expect(run.stdout).toMatch(/^ok +environment +a dev token \(openclaw_gw_dev_\) for the dev gateway$/m);
    expect(run.stdout).toMatch(/^ok +endpoint-scope +POST \/v1\/jobs needs run:jobs, which the token has$/m);
    expect(run.stdout).toMatch(/^info +bearer-form +`Bearer` accepted; lowercase `bearer` is refused \(401 invalid_token\)$/m);
    expect(run.stdout).toMatch(/fix: send exactly `Authorization: Bearer <token>` \(capital B, one space\)/);
    expect(run.stdout).toMatch(/^No problems found\.$/m);
  });

  it("gives the checks as data with --json, the token from OPENCLAW_GATEWAY_TOKEN", async () => {
    const { id, token } = await mint(dev, ["read:agents"]);

    const { run, report } = await doctorJson(dev.url, { env: token });

    expect(run.code).toBe(0);
    expect(report).toMatchObject({
      gateway: { url: dev.url, environment: "dev" },
      token: { source: "OPENCLAW_GATEWAY_TOKEN", length: token.length, prefix: "openclaw_gw_dev_", environment: "dev", id },
      problems: 0,
      ok: true,
    });
    expect(report.checks.map((c) => c.id)).toEqual(["format", "provider-key", "gateway", "environment", "whoami", "bearer-form", "endpoint-scope", "proxy"]);
  });
});

describe("the guide's failure-mode table, row by row", () => {
  it('401 "invalid token": a mistyped token is unknown to the gateway; fix: header format, all characters, regenerate', async () => {
    const { token } = await mint(dev, ["run:jobs"]);
    const mistyped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    values.push(mistyped);

    const { run, check } = await doctorJson(dev.url, { stdin: mistyped });

    expect(run.code).toBe(3);
    expect(check("format").status).toBe("ok");
    expect(check("whoami")).toMatchObject({ status: "problem", message: expect.stringMatching(/^401 invalid token: the gateway does not know it/) });
    expect(check("whoami").fix).toMatch(/check the header format \(Authorization: Bearer <token>\), confirm you copied all characters, or regenerate the token/);
  });

  it('401 "invalid token": a revoked token, which the gateway answers like an unknown one', async () => {
    const { id, token } = await mint(dev, ["run:jobs"]);
    await fetch(`${dev.url}/v1/admin/tokens/${id}/revoke`, { method: "POST", headers: { Authorization: `Bearer ${dev.adminToken}` } });

    const { run, check } = await doctorJson(dev.url, { stdin: token });

    expect(run.code).toBe(3);
    expect(check("whoami").message).toMatch(/^401 invalid token: .*revoked/);
    expect(check("bearer-form").status).toBe("skipped");
  });

  it('401 "token expired": the token passed its TTL; fix: a new token, and rotation', async () => {
    const { token } = await mint(dev, ["run:jobs"], 60);
    await dev.setClockOffset(120_000);
    try {
      const { run, check } = await doctorJson(dev.url, { stdin: token });

      expect(run.code).toBe(3);
      expect(check("whoami")).toEqual({
        id: "whoami",
        status: "problem",
        message: "401 token expired: the token passed its TTL",
        fix: "generate a new token; enable rotation (a managed token: `openclaw-tokens rotate NAME`)",
      });
    } finally {
      await dev.setClockOffset(0);
    }
  });

  it("401 only in production: a dev token sent to the prod gateway; fix: the env-specific .env, check the prefix", async () => {
    const { token } = await mint(dev, ["run:jobs"]);

    const { run, report, check } = await doctorJson(prod.url, { stdin: token });

    expect(run.code).toBe(3);
    expect(report.gateway.environment).toBe("prod");
    expect(check("environment")).toMatchObject({
      status: "problem",
      message: "a dev token (openclaw_gw_dev_) sent to the prod gateway, which accepts only openclaw_gw_live_",
      fix: expect.stringMatching(/environment-specific \.env .*openclaw_gw_live_\.\.\. is prod/),
    });
    expect(check("whoami").status).toBe("problem");
  });

  it("the same mix-up named by --environment, before the gateway is even asked", async () => {
    const { token } = await mint(dev, ["run:jobs"]);
    const { check } = await doctorJson(dev.url, { stdin: token }, ["--environment", "prod"]);
    expect(check("environment").message).toBe("a dev token (openclaw_gw_dev_), but --environment says prod (openclaw_gw_live_)");
  });

  it('403 "insufficient scope": valid, but without the endpoint\'s scope; fix: grant it, not admin:*', async () => {
    const { token } = await mint(dev, ["read:jobs"]);

    const { run, check } = await doctorJson(dev.url, { stdin: token }, ["--endpoint", "POST /v1/jobs"]);

    expect(run.code).toBe(3);
    expect(check("whoami").status).toBe("ok");
    expect(check("endpoint-scope")).toEqual({
      id: "endpoint-scope",
      status: "problem",
      message: "403 insufficient scope: POST /v1/jobs needs run:jobs; the token has read:jobs",
      fix: "grant run:jobs to this consumer's token (declare it in the stack) or use a different token; do not broadly upgrade to admin:*",
    });
    // The gateway agrees: that endpoint answers 403 to this token.
    const res = await fetch(`${dev.url}/v1/jobs`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: '{"agentId":"agt_echo","input":1}' });
    expect(res.status).toBe(403);
  });

  it("a token-management endpoint: an admin:tokens token has the scope, admin:* has it through admin:*, admin:tools does not", async () => {
    const tokenAdmin = await mint(dev, ["admin:tokens"], 7 * 86_400);
    const tools = await mint(dev, ["admin:tools"]);
    const endpoint = ["--endpoint", `POST /v1/admin/tokens/${tokenAdmin.id}/suspend`];

    const [byTokenAdmin, byAdmin, byTools] = await Promise.all([
      doctorJson(dev.url, { stdin: tokenAdmin.token }, endpoint),
      doctorJson(dev.url, { stdin: dev.adminToken }, endpoint),
      doctorJson(dev.url, { stdin: tools.token }, endpoint),
    ]);

    expect(byTokenAdmin.check("endpoint-scope")).toMatchObject({ status: "ok", message: `POST /v1/admin/tokens/${tokenAdmin.id}/suspend needs admin:tokens, which the token has` });
    expect(byAdmin.check("endpoint-scope")).toMatchObject({ status: "ok", message: `POST /v1/admin/tokens/${tokenAdmin.id}/suspend needs admin:tokens, which the token has through admin:*` });
    expect(byTools.check("endpoint-scope")).toMatchObject({ status: "problem", message: `403 insufficient scope: POST /v1/admin/tokens/${tokenAdmin.id}/suspend needs admin:tokens; the token has admin:tools` });
  });

  it("401 intermittently: a proxy that sometimes strips the Authorization header; fix: preserve its case and value", async () => {
    const { token } = await mint(dev, ["run:jobs"]);
    const proxy = await startProxy(dev.url, (n) => n % 2 === 1);
    try {
      const { run, check } = await doctorJson(dev.url, { stdin: token }, ["--via", proxy.url]);

      expect(run.code).toBe(3);
      expect(check("whoami").status).toBe("ok");
      expect(check("proxy")).toEqual({
        id: "proxy",
        status: "problem",
        message: `through ${proxy.url} the gateway answers 401 invalid_token intermittently (2 of 4), directly 200: the proxy strips or rewrites the Authorization header`,
        fix: "inspect the proxy config; preserve the Authorization header's case and value",
      });
    } finally {
      await proxy.close();
    }
  });

  it("a proxy that passes the header untouched is ok", async () => {
    const { token } = await mint(dev, ["run:jobs"]);
    const proxy = await startProxy(dev.url, () => false);
    try {
      const { run, check } = await doctorJson(dev.url, { stdin: token }, ["--via", proxy.url]);
      expect(run.code).toBe(0);
      expect(check("proxy")).toMatchObject({ status: "ok", message: `through ${proxy.url} the token is accepted as directly (4 of 4)` });
    } finally {
      await proxy.close();
    }
  });

  it("401 on self-hosted after restart: a gateway whose token database was not persisted; fix: mount the volume", async () => {
    const { token } = await mint(dev, ["run:jobs"]);
    // A restart without the volume is a gateway with an empty token database.
    const fresh = await startReferenceGateway();
    try {
      const { run, check } = await doctorJson(fresh.url, { stdin: token });
      expect(run.code).toBe(3);
      expect(check("whoami").fix).toMatch(/on a self-hosted gateway that restarted, ensure its token database volume is mounted/);
    } finally {
      await fresh.stop();
    }
  });

  it("401 after a successful curl test: a copy truncated by the terminal; fix: recopy in full", async () => {
    const { token } = await mint(dev, ["run:jobs"]);

    const { run, check } = await doctorJson(dev.url, { stdin: token.slice(0, 40) });

    expect(run.code).toBe(3);
    expect(check("format")).toMatchObject({
      status: "problem",
      message: "it is 31 characters short: a truncated copy (40 characters)",
      fix: expect.stringMatching(/copy the token in full .*managed tokens are >40 characters/),
    });
    expect(check("whoami").status).toBe("problem");
  });

  it("401 suspended: recognised from the gateway's body", async () => {
    const stub = await startSuspendedGateway();
    try {
      const { run, check } = await doctorJson(stub.url, { stdin: "openclaw_gw_dev_" + "a".repeat(55) });
      expect(run.code).toBe(3);
      expect(check("whoami")).toMatchObject({ status: "problem", message: "401: the token is suspended (the gateway says so)" });
    } finally {
      await stub.close();
    }
  });
});

describe("what a loader does to a token", () => {
  it.each([
    ["a newline from a file", (t: string) => `${t}\n\n`, /it ends with a newline \(read from a file\?\)/],
    ["stray whitespace", (t: string) => ` ${t} `, /it has whitespace around it/],
    ["quotes from a .env", (t: string) => `"${t}"`, /it is wrapped in quotes/],
    ["the scheme in the variable", (t: string) => `Bearer ${t}`, /it includes the scheme/],
  ])("%s: a format problem, and the cleaned token is checked with the gateway", async (_what, spoil, message) => {
    const { id, token } = await mint(dev, ["run:jobs"]);

    const { run, report, check } = await doctorJson(dev.url, { env: spoil(token) });

    expect(run.code).toBe(3);
    expect(check("format")).toMatchObject({ status: "problem", message: expect.stringMatching(message) });
    expect(check("whoami").status).toBe("ok");
    expect(report.token.id).toBe(id);
  });

  it("a provider key: named as such, and never sent to the gateway", async () => {
    const key = `sk-ant-api03-${"x".repeat(40)}`;
    values.push(key);

    const { run, check } = await doctorJson(dev.url, { stdin: key });

    expect(run.code).toBe(3);
    expect(check("provider-key")).toMatchObject({ status: "problem", message: "this is an Anthropic API key, not an OpenClaw gateway token" });
    expect(check("whoami").status).toBe("skipped");
    expect(run.stdout).not.toContain(key);
  });
});

describe("inputs", () => {
  it("refuses a token on the command line without echoing it", async () => {
    const { token } = await mint(dev, ["run:jobs"]);
    const asFlag = await doctor(["--gateway-url", dev.url, `--token=${token}`], {});
    const asArgument = await doctor([token, "--gateway-url", dev.url], {});
    for (const run of [asFlag, asArgument]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/never taken from the command line/);
      expect(run.stderr).not.toContain(token);
    }
  });

  it("needs a token and a gateway URL, and says where each comes from", async () => {
    const noToken = await doctor(["--gateway-url", dev.url], {});
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/^error: doctor needs the token to check\. Fix: pipe it on stdin/);
    const noUrl = await doctor([], { stdin: "openclaw_gw_dev_x" });
    expect(noUrl.stderr).toMatch(/^error: doctor needs the gateway URL\. Fix: pass --gateway-url URL or set OPENCLAW_GATEWAY_URL/);
  });

  it("reports a gateway that does not answer", async () => {
    const { check, run } = await doctorJson("http://127.0.0.1:9", { stdin: "openclaw_gw_dev_" + "a".repeat(55) });
    expect(run.code).toBe(3);
    expect(check("gateway")).toMatchObject({ status: "problem", fix: expect.stringMatching(/check OPENCLAW_GATEWAY_URL/) });
    expect(check("whoami").status).toBe("skipped");
  });
});

describe("every run above", () => {
  it("never printed a token value", () => {
    expect(outputs.length).toBeGreaterThan(20);
    const all = outputs.join("\n");
    expect(all).not.toMatch(TOKEN_VALUE);
    for (const value of values) expect(all).not.toContain(value);
    for (const value of values) expect(all).not.toContain(value.slice(-20));
  });
});

interface Closable {
  readonly url: string;
  close(): Promise<void>;
}

function listen(server: Server): Promise<Closable> {
  return new Promise((resolvePromise) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolvePromise({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

/** A reverse proxy to `target` that drops the Authorization header of the requests `strip(n)` picks (n from 0). */
function startProxy(target: string, strip: (n: number) => boolean): Promise<Closable> {
  let n = 0;
  const upstream = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const headers = { ...req.headers, host: upstream.host };
    if (strip(n++)) delete headers.authorization;
    const forward = request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  return listen(server);
}

/** A gateway that answers every token as suspended (the state another branch adds to the reference gateway). */
function startSuspendedGateway(): Promise<Closable> {
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    if (req.url === "/healthz") return res.end(JSON.stringify({ status: "ok", environment: "dev" }));
    res.writeHead(401).end(JSON.stringify({ error: { code: "invalid_token", message: "token suspended" } }));
  });
  return listen(server);
}
