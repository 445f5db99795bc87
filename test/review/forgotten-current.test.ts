/**
 * Review of the ledger design (a reproduced finding, now fixed): the gateway forgets the NEW current token during the drain (restored from a backup taken before the
 * rotation). The drain reads the 404 for the current token as "no consumer traffic yet" and waits silently until the
 * old token's deadline; then fails (bad state) while keeping the old token, whose `rotate` hint does not work (the
 * phase is draining, `rotate` only forces an idle token); once the old token has expired the entry goes idle with the
 * dead current token and is not looked at again until that token's due date. Consumers reading AWSCURRENT have no
 * valid token for all that time, and no run ever issues one.
 */
import { GatewayBackend } from "../../src/gateway/backend";
import { GatewayError } from "../../src/gateway/errors";
import { LedgerPhase } from "../../src/ledger/ledger";
import { DAY, Recorder, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(120_000);

describe("review 9: the gateway forgets the current token mid-drain", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());

  it("issues a new token at once when the gateway forgets the current one mid-drain", async () => {
    await h.declare({ name: "app" });
    await h.advance(25 * DAY);
    await h.engine().runScheduled();
    const entry = await h.entry("app");
    expect(entry.state.phase).toBe(LedgerPhase.Draining);
    const forgottenId = entry.state.current!.tokenId;
    // The restore: the gateway refuses the new token and no longer knows it (revoked here so consumers really get 401).
    await h.admin.revoke(forgottenId);
    const forgetful: GatewayBackend = Object.create(h.admin);
    forgetful.describe = (id) => (id === forgottenId ? Promise.resolve(undefined) : h.admin.describe(id));
    forgetful.traffic = (id, since) =>
      id === forgottenId
        ? Promise.reject(new GatewayError("not_found", { method: "GET", endpoint: `/v1/admin/tokens/${id}/requests`, gatewayUrl: h.gateway.url }, "unknown token", { status: 404 }))
        : h.admin.traffic(id, since);
    forgetful.consumers = (id, since) =>
      id === forgottenId
        ? Promise.reject(new GatewayError("not_found", { method: "GET", endpoint: `/v1/admin/tokens/${id}/consumers`, gatewayUrl: h.gateway.url }, "unknown token", { status: 404 }))
        : h.admin.consumers(id, since);

    const outcomes: string[] = [];
    const recorder = new Recorder();
    const daysWithoutValidToken: number[] = [];
    // Six checks a day for 7 days, and the operator runs `rotate` once a day as the hints say.
    for (let day = 0; day < 7; day++) {
      for (let i = 0; i < 6; i++) {
        outcomes.push(String((await h.engine({ backend: forgetful }, recorder).runScheduled()).outcomes[h.secretName("app")]));
        await h.advance(4 * 3600_000);
      }
      outcomes.push(`rotate:${await h.engine({ backend: forgetful }, recorder).rotateNow(h.secretName("app"))}`);
      if (!(await h.accepted(await h.current("app")))) daysWithoutValidToken.push(day);
    }
    // Consumers must not be left without a valid token for days while every run reports "waiting".
    expect(daysWithoutValidToken).toEqual([]);
  });
});
