/** The audit's grouping and flags, on request logs written out by hand. */
import { buildAuditReport, renderAuditReport } from "../../cli/audit/report";
import { parseTimeOption } from "../../cli/audit/time";
import { TrafficEntry } from "../../src/gateway/backend";

const at = (iso: string) => new Date(iso);
const call = (iso: string, userAgent: string, method = "POST", path = "/v1/jobs", status = 201): TrafficEntry => ({ at: at(iso), method, path, status, userAgent });

describe("buildAuditReport", () => {
  const since = at("2026-04-01T00:00:00.000Z");

  it("groups calls by consumer, then endpoint and status, across the current and previous tokens", () => {
    const report = buildAuditReport(
      [
        { tokenId: "tok_new", role: "AWSCURRENT", status: "active", revokedAt: null, entries: [call("2026-04-02T10:00:00Z", "orders/2.1"), call("2026-04-02T10:01:00Z", "orders/2.1", "GET", "/v1/agents", 403)] },
        { tokenId: "tok_old", role: "AWSPREVIOUS", status: "active", revokedAt: null, entries: [call("2026-04-01T09:00:00Z", "orders/2.1"), call("2026-04-01T09:30:00Z", "orders/2.1")] },
      ],
      since,
      undefined,
    );

    expect(report.consumers).toEqual([
      {
        consumer: "orders/2.1",
        requests: 4,
        firstSeen: "2026-04-01T09:00:00.000Z",
        lastSeen: "2026-04-02T10:01:00.000Z",
        tokenIds: ["tok_old", "tok_new"],
        endpoints: [
          { endpoint: "POST /v1/jobs", status: 201, count: 3 },
          { endpoint: "GET /v1/agents", status: 403, count: 1 },
        ],
        newConsumer: false,
        afterRevocation: 0,
      },
    ]);
    expect(report.flagged).toBe(0);
  });

  it("flags a consumer first seen after --new-after, and calls made after the token's revocation", () => {
    const report = buildAuditReport(
      [
        {
          tokenId: "tok_leaked",
          role: "--token-id",
          status: "revoked",
          revokedAt: at("2026-04-03T00:00:00Z"),
          entries: [
            call("2026-04-01T12:00:00Z", "orders/2.1"),
            call("2026-04-02T12:00:00Z", "curl/8.5.0", "GET", "/v1/agents", 200),
            call("2026-04-03T00:00:00Z", "curl/8.5.0", "GET", "/v1/agents", 401),
            call("2026-04-03T01:00:00Z", "", "GET", "/v1/agents", 401),
            call("2026-04-02T13:00:00Z", "openclaw-token-ops/0.1 (rotator)", "GET", "/v1/auth/whoami", 200),
          ],
        },
      ],
      since,
      at("2026-04-02T00:00:00Z"),
    );

    const byName = Object.fromEntries(report.consumers.map((c) => [c.consumer, c]));
    expect(byName["orders/2.1"]).toMatchObject({ newConsumer: false, afterRevocation: 0 });
    expect(byName["curl/8.5.0"]).toMatchObject({ newConsumer: true, afterRevocation: 1, requests: 2 });
    expect(byName["(no User-Agent)"]).toMatchObject({ newConsumer: true, afterRevocation: 1 });
    expect(report.ownRequests).toBe(1);
    expect(report.flagged).toBe(2);

    const text = renderAuditReport("ci-runner", report);
    expect(text).toMatch(/^curl\/8\.5\.0 {2}\[NEW CONSUMER, 1 AFTER REVOCATION\]$/m);
    expect(text).toMatch(/^ {2}tok_leaked {2}--token-id, revoked, revoked 2026-04-03T00:00:00\.000Z: 4 requests$/m);
    expect(text).toMatch(/^\(1 request by openclaw-token-ops itself left out\)$/m);
    expect(text).toMatch(/^2 consumers flagged: check that these calls are yours/m);
  });

  it("says when a token's log is a full page, so older calls may be missing", () => {
    const entries = Array.from({ length: 1000 }, (_, i) => call(new Date(Date.UTC(2026, 3, 2, 0, 0, i)).toISOString(), "orders/2.1"));
    const report = buildAuditReport([{ tokenId: "tok_busy", role: "AWSCURRENT", status: "active", revokedAt: null, entries }], since, undefined);
    expect(report.tokens[0].truncated).toBe(true);
    expect(renderAuditReport("x", report)).toMatch(/the gateway's last 1000; older ones are in its requests\.jsonl/);
  });
});

describe("parseTimeOption", () => {
  const now = at("2026-04-10T12:00:00Z");
  it("takes an ISO time or a duration back from now", () => {
    expect(parseTimeOption("since", "2026-04-02T00:00:00Z", now)).toEqual(at("2026-04-02T00:00:00Z"));
    expect(parseTimeOption("since", "24h", now)).toEqual(at("2026-04-09T12:00:00Z"));
    expect(parseTimeOption("since", "7d", now)).toEqual(at("2026-04-03T12:00:00Z"));
  });
  it("refuses anything else as a usage error naming the flag", () => {
    expect(() => parseTimeOption("new-after", "yesterday", now)).toThrow(/--new-after "yesterday" is neither an ISO time nor a duration/);
  });
});
