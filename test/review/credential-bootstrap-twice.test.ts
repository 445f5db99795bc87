/**
 * Review 12b, finding 3: bootstrap-rotator run twice at once (two operators, a retried pipeline step) can leave no
 * rotator credential, a secret holding a revoked token with no ledger entry, and every later bootstrap-rotator refused.
 *
 * Interleaving (both are the provider's create, cli/commands/bootstrap-rotator.ts, with the break-glass token):
 *   1. B1 finds no entry, records its intent (`creating`) and mints T1; its answer is still on the wire.
 *   2. B2 reads the entry (`creating`, so "resuming" a create that died, runtime.ts) and no secret yet; it takes the
 *      entry over without looking at B1's lease (revoking what B1's mint name minted: T1), records its own intent, and
 *      sends its mint.
 *   3. B1 goes on: it creates the secret with T1, and its final ledger write fails (B2 wrote since): it revokes T1 and
 *      fails to delete the entry (not its version any more).
 *   4. B2's mint returns T2; creating the secret fails (B1 made it): B2 revokes T2 and deletes the entry, which it wrote
 *      last.
 * Left: no ledger entry, `openclaw-admin/dev/rotator` holding revoked T1, no live credential. bootstrap-rotator then
 * refuses (`secret_exists`, "set adopt: true", which it cannot do): the runbook's repair is wedged until someone
 * deletes the secret by hand.
 *
 * Expected: after both, or at worst after running bootstrap-rotator once more, one live credential that the ledger
 * records and the secret holds. Observed (before a fix): the third bootstrap-rotator exits 1 with secret_exists.
 * Fix (runtime.ts, create): a secret that appeared since the create looked (ResourceExists on a secret it found
 * absent) means a concurrent create of the same token, so the entry is kept `creating` rather than deleted; the next
 * create resumes it and takes the secret back. Also worth doing (not done here): bootstrap-rotator refusing, as busy,
 * a `creating` entry whose lease is live, since no stack lock serialises two of them as Pulumi serialises `pulumi up`.
 */
import { rotatorCredentialInputs } from "../../cli/commands/bootstrap-rotator";
import { Sensitive } from "../../src/domain/sensitive";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import type { GatewayBackend } from "../../src/gateway/backend";
import { createProviderRuntime } from "../../src/provider/runtime";
import { rotatorCredentialSecretName } from "../../src/store/metadata";
import { runCli } from "../cli/run-cli";
import { LEDGER_TABLE, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(120_000);

const CREDENTIAL = rotatorCredentialSecretName("dev");
let h: RotationHarness;

beforeAll(async () => {
  h = await RotationHarness.start();
  await h.dropAdminSecret();
}, 120_000);
afterAll(() => h?.stop());

/** A gate a test opens by hand. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** One bootstrap-rotator's create, as the CLI runs it, with a pause around its mint. */
function bootstrapCreate(pause: { reached?: () => void; before?: Promise<void>; after?: Promise<void>; minted?: () => void }) {
  const runtime = createProviderRuntime({
    backend: (inputs) => {
      const real = new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: "dev", adminToken: new Sensitive(inputs.adminToken), userAgent: "openclaw-token-ops/0.1 (cli)" });
      return new Proxy(real, {
        get(target, property, receiver) {
          if (property !== "mint") return Reflect.get(target, property, receiver);
          return async (...args: Parameters<GatewayBackend["mint"]>) => {
            pause.reached?.();
            await pause.before;
            const issued = await target.mint(...args);
            pause.minted?.();
            await pause.after;
            return issued;
          };
        },
      });
    },
    store: () => h.store,
    ledger: () => h.ledger,
    clock: h.clock,
  });
  const inputs = rotatorCredentialInputs({ environment: "dev", gatewayUrl: h.gateway.url, ledgerTable: LEDGER_TABLE, breakGlassToken: h.gateway.adminToken });
  return runtime.create(inputs).then(
    () => "ok",
    (error: unknown) => `failed: ${(error as { code?: string }).code ?? (error as Error).name}`,
  );
}

it("two bootstrap-rotator runs at once leave a credential, or one that a third run can repair", async () => {
  const b1Minted = gate();
  const b1Answer = gate();
  const b2Mint = gate();
  const b1 = bootstrapCreate({ after: b1Answer.wait, minted: b1Minted.open });
  await b1Minted.wait;
  const b2AtMint = gate();
  const b2 = bootstrapCreate({ reached: b2AtMint.open, before: b2Mint.wait });
  // B2 has taken the entry over and recorded its intent before B1's answer arrives.
  await b2AtMint.wait;
  b1Answer.open();
  const first = await b1;
  b2Mint.open();
  const second = await b2;

  const third = await runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], {
    env: { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) },
  });
  const entry = await h.ledger.get(CREDENTIAL);
  const live = (await h.gatewayTokens("openclaw-rotator")).filter((t) => t.status === "active").map((t) => t.id);

  // The two concurrent runs may fail; what they leave must be repairable by the runbook's command.
  expect({ first, second, third: third.code, error: third.code === 0 ? "" : third.stderr.slice(-300) }).toEqual({ first, second, third: 0, error: "" });
  expect(entry?.state.current?.tokenId).toBeDefined();
  expect(live).toEqual([entry?.state.current?.tokenId]);
});
