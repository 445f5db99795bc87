/** The status rows and their rendering, in-process, with the harness's clock moved through a token's life. */
import { request } from "node:http";
import { Sensitive } from "../../src/domain/sensitive";
import { GatewayBackend } from "../../src/gateway/backend";
import { GatewayUnavailableError } from "../../src/gateway/errors";
import { Boundary } from "../../src/rotation/observability";
import { computeTokenStatus, renderStatusTable, statusRowsToJson, TokenStatusRow } from "../../src/status";
import { DAY, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(60_000);

describe("computeTokenStatus", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  const status = (backend: GatewayBackend = h.admin) => computeTokenStatus({ ledger: h.ledger, backend, clock: h.clock });
  const row = (rows: TokenStatusRow[], name: string) => rows.find((r) => r.name === name) as TokenStatusRow;
  const idOf = async (name: string) => (await h.admin.whoami(await h.current(name))).id;

  it("shows a token past its due time as due, with its age, share of TTL used and how overdue it is", async () => {
    await h.declare({ name: "ci-runner" }, { name: "dashboard", ttl: "90d" });
    const issuedAt = (await h.entry("ci-runner")).state.current!.issuedAt;
    await h.advance(25 * DAY);

    const rows = await status();

    expect(row(rows, "ci-runner")).toMatchObject({ phase: "due", ttlSeconds: 30 * 86400, nextRotationAt: new Date(issuedAt.getTime() + 24 * DAY), problems: [], warnings: [] });
    expect(row(rows, "ci-runner").ageSeconds).toBeGreaterThanOrEqual(25 * 86400);
    expect(row(rows, "ci-runner").ttlUsedPercent).toBeCloseTo(83.3, 0);
    expect(row(rows, "dashboard")).toMatchObject({ phase: "idle" });
    expect(row(rows, "dashboard").ttlUsedPercent).toBeCloseTo(27.8, 0);
    const table = renderStatusTable(rows, h.clock.now());
    expect(table).toMatch(/^ci-runner\s+due\s+tok_\S+\s+run:jobs\s+25(\.0)?d\s+83%\s+\S+ \S+ \(overdue 1(\.0)?d\)\s+never\s+-$/m);
    expect(table).toMatch(/^dashboard\s+idle\s+.*\s28%\s+\S+ \S+ \(in 47(\.0)?d\)\s+never\s+-$/m);
  });

  it("follows a rotation: minting while under way, then draining with the retiring token's consumer use", async () => {
    await h.declare({ name: "ci-runner" });
    const old = await h.current("ci-runner");
    const oldId = await idOf("ci-runner");
    const crash = h.engine({
      observer: {
        checkpoint: (boundary) => {
          if (boundary === Boundary.IntentRecorded) throw new Error("simulated crash");
        },
      },
    });
    expect(await crash.rotateNow(h.secretName("ci-runner"))).toBe("failed");

    const minting = await status();
    expect(row(minting, "ci-runner")).toMatchObject({ phase: "minting", tokenId: oldId, retiringTokenId: undefined });
    expect(renderStatusTable(minting, h.clock.now())).toMatch(/^ci-runner\s+minting\s+.*\sunder way\s+never\s+-$/m);

    expect(await h.engine().rotateNow(h.secretName("ci-runner"))).toBe("waiting");
    const draining = await status();
    // The rotator's own whoami of the new token is not consumer traffic.
    expect(row(draining, "ci-runner")).toMatchObject({
      phase: "draining",
      tokenId: await idOf("ci-runner"),
      retiringTokenId: oldId,
      lastTraffic: { kind: "never" },
      retiringLastTraffic: { kind: "never" },
    });
    expect(renderStatusTable(draining, h.clock.now())).toMatch(new RegExp(`\\snever\\s+${oldId} \\(unused since rotation\\)$`, "m"));

    await h.consume(old);
    await h.consume(await h.current("ci-runner"));
    const used = row(await status(), "ci-runner");
    expect(used.lastTraffic.kind).toBe("used");
    expect(used.retiringLastTraffic?.kind).toBe("used");
    expect(renderStatusTable([used], h.clock.now())).toMatch(new RegExp(`\\s\\d+s ago\\s+${oldId} \\(used \\d+s ago\\)$`, "m"));
  });

  it("counts a consumer request without a User-Agent as consumer traffic", async () => {
    await h.declare({ name: "ci-runner" });
    const token = await h.current("ci-runner");

    await bareRequest(`${h.gateway.url}/v1/agents`, token);

    expect(row(await status(), "ci-runner").lastTraffic.kind).toBe("used");
  });

  it("keeps every row when the gateway fails for one token: '?' and a warning", async () => {
    await h.declare({ name: "ci-runner" }, { name: "dashboard" });
    const failing = await idOf("dashboard");
    const flaky = new Proxy(h.admin, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key !== "describe") return typeof value === "function" ? value.bind(target) : value;
        return async (tokenId: string) => {
          if (tokenId === failing) throw new GatewayUnavailableError({ method: "GET", endpoint: `/v1/admin/tokens/${tokenId}`, gatewayUrl: h.gateway.url, tokenId }, "no answer after 4 attempts (timed out)");
          return target.describe(tokenId);
        };
      },
    });

    const rows = await status(flaky);

    expect(row(rows, "ci-runner")).toMatchObject({ phase: "idle", lastTraffic: { kind: "never" }, warnings: [] });
    expect(row(rows, "dashboard")).toMatchObject({ phase: "idle", lastTraffic: { kind: "unknown" }, problems: [] });
    expect(row(rows, "dashboard").warnings).toEqual([expect.stringMatching(/^last traffic unknown: GET .* no answer after 4 attempts \(timed out\)\. Fix: check that the gateway URL is right/)]);
    const table = renderStatusTable(rows, h.clock.now());
    expect(table).toMatch(/^dashboard\s+idle\s+.*\s\?\s+-$/m);
    expect(table).toMatch(/^dashboard: warning: last traffic unknown: /m);
    expect(statusRowsToJson(rows).find((r) => r.name === "dashboard")).toMatchObject({ lastUsedAt: null, lastUsedKnown: false });
  });

  it("reports a token revoked behind the rotator's back as a problem, keeping its phase", async () => {
    await h.declare({ name: "ci-runner" });
    const id = await idOf("ci-runner");
    await h.admin.revoke(id);

    const rows = await status();

    expect(row(rows, "ci-runner")).toMatchObject({ phase: "idle", problems: [`token ${id} is revoked on the gateway; consumers are refused until a new one is issued (\`openclaw-tokens rotate\`)`] });
  });

  it("never puts a token value into a row, its JSON or the table", async () => {
    await h.declare({ name: "ci-runner" });
    await h.engine().rotateNow(h.secretName("ci-runner"));
    const rows = await status();
    const text = JSON.stringify(statusRowsToJson(rows)) + renderStatusTable(rows, h.clock.now()) + JSON.stringify(rows);
    expect(text).not.toMatch(/openclaw_gw_/);
  });
});

/** A request with nothing but the bearer token: no User-Agent, as some HTTP clients send it. */
function bareRequest(url: string, token: Sensitive): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { headers: { Authorization: `Bearer ${token.reveal()}` } }, (res) => {
      res.resume();
      res.on("end", () => resolvePromise(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}
