/**
 * Review 12, finding 1: the provider presents the environment's rotator credential to whatever gateway a token
 * declaration names. `gatewayOf` (src/provider/runtime.ts) reads the credential for a declaration without adminToken and
 * sends it to `inputs.gatewayUrl`, never comparing that URL with the gateway the credential's own ledger entry declares
 * (the one bootstrap-rotator minted it on). The rotator does compare (engine.ts refuses an entry of another gateway);
 * the provider does not. Before issue 12 a stack gave gatewayUrl and adminToken side by side; now one declaration with a
 * wrong gatewayUrl (a typo, a stale URL kept in state and used by destroy, another team's host) receives the dev
 * admin:tokens credential in its Authorization header, and with it the power to mint any token short of admin:*.
 *
 * Interleaving: bootstrap-rotator on gateway A; `pulumi up` of a GatewayToken of the same environment, no adminToken,
 * gatewayUrl B. Expected: refused before any request reaches B. Observed: B receives `Bearer <credential>`.
 */
import { createServer, IncomingHttpHeaders, Server } from "node:http";
import { AddressInfo } from "node:net";
import { Sensitive } from "../../src/domain/sensitive";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { createProviderRuntime } from "../../src/provider/runtime";
import { rotatorCredentialSecretName } from "../../src/store/metadata";
import { runCli } from "../cli/run-cli";
import { RotationHarness } from "../support/rotation-harness";

jest.setTimeout(120_000);

let h: RotationHarness;
let other: Server;
let otherUrl: string;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  h = await RotationHarness.start();
  // A self-rotating deployment: no admin secret, the rotator credential bootstrapped on the harness's gateway.
  await h.dropAdminSecret();
  const boot = await runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], {
    env: { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) },
  });
  expect(boot.code).toBe(0);
  // Another host on loopback (in this process, closed in afterAll): it records what it is sent and answers 400 (fails the mint at once).
  other = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"code":"invalid_request","message":"no"}}');
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
  await h?.stop();
});

it("never sends the rotator credential to a gateway other than the one its ledger entry declares", async () => {
  const credential = await h.ledger.get(rotatorCredentialSecretName("dev"));
  expect(credential?.declaration.gatewayUrl.replace(/\/+$/, "")).toBe(h.gateway.url.replace(/\/+$/, ""));
  const runtime = createProviderRuntime({
    backend: (inputs) => new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: "dev", adminToken: new Sensitive(inputs.adminToken), userAgent: "openclaw-token-ops/0.1 (provider)" }),
    store: () => h.store,
    ledger: () => h.ledger,
    clock: h.clock,
  });
  const checked = await runtime.check({}, { name: "billing-svc", scopes: ["run:jobs"], ttl: "10d", environment: "dev", gatewayUrl: otherUrl, recoveryWindowDays: 0 });
  expect(checked.failures ?? []).toEqual([]);
  await expect(runtime.create(checked.inputs)).rejects.toThrow();
  // Not one request carrying a bearer value reached the undeclared host.
  expect(seen.filter((headers) => headers.authorization !== undefined).length).toBe(0);
});
