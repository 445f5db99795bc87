/**
 * Review of the ledger design (a reproduced finding, now fixed): the leak response taking over an entry while `pulumi up` is creating it (phase creating). The create then
 * fails, and every later `pulumi up` is refused ("already exists in the ledger"): the declared token can never be
 * created by the stack again without editing the ledger by hand.
 */
import { Sensitive } from "../../src/domain/sensitive";
import { GatewayBackend } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { createProviderRuntime } from "../../src/provider/runtime";
import { GatewayTokenInputs } from "../../src/provider/inputs";
import { RotationHarness } from "../support/rotation-harness";

jest.setTimeout(90_000);

describe("review 9: emergency during the provider's create", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());

  it("leaves an entry that the next pulumi up can create", async () => {
    let interrupt = true;
    const runtime = createProviderRuntime({
      backend: (inputs) => {
        const real = new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: "dev", adminToken: new Sensitive(inputs.adminToken), userAgent: "openclaw-token-ops/0.1 (provider)" });
        const wrapped: GatewayBackend = Object.create(real);
        wrapped.mint = async (request) => {
          if (interrupt) {
            interrupt = false;
            // The operator's leak response for this token, while pulumi up is between its intent and its mint.
            await h.engine().emergencyRevoke(h.secretName("app")).catch(() => undefined);
          }
          return real.mint(request);
        };
        return wrapped;
      },
      store: () => h.store,
      ledger: () => h.ledger,
      clock: h.clock,
      leaseWaitMs: 50,
    });
    const checked = await runtime.check({}, { name: "app", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 });
    const inputs = checked.inputs as GatewayTokenInputs;

    const first = await runtime.create(inputs).then(() => "created", (e: Error) => `failed: ${e.message}`);
    expect(first).toMatch(/^failed/);

    // Scheduled runs and retries of pulumi up follow.
    const attempts: string[] = [];
    for (let i = 0; i < 3; i++) {
      await h.engine().runScheduled();
      await h.advance(30 * 60_000);
      attempts.push(await runtime.create(inputs).then(() => "created", (e: Error) => `failed: ${e.message}`));
    }
    expect(attempts).toContain("created");
  });
});
