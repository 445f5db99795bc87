/**
 * Which version of a managed token's secret a consumer's token is: AWSCURRENT (fine), AWSPENDING (being introduced),
 * AWSPREVIOUS (still valid, about to be retired) or none (a stale cache: the guide's "502/504 after rotation").
 * Values are compared by hash in constant time and never leave this module.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Stage } from "../../src/store/token-store";
import { TokenRecord } from "../../src/store/record";
import { Check, CheckId, ok, problem } from "./check";

export interface ManagedToken {
  readonly name: string;
  readonly secretName: string;
  /** The records the secret holds now, by stage. */
  readonly versions: Readonly<Partial<Record<Stage, TokenRecord>>>;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

export function stageHolding(managed: ManagedToken, token: string): Stage | undefined {
  const given = digest(token);
  for (const stage of [Stage.Current, Stage.Pending, Stage.Previous]) {
    const record = managed.versions[stage];
    if (record && timingSafeEqual(digest(record.token.reveal()), given)) return stage;
  }
  return undefined;
}

const RELOAD = "roll the service so it reloads secrets";

export function secretCheck(managed: ManagedToken, token: string, whoamiValid: boolean | undefined): Check {
  const stage = stageHolding(managed, token);
  const id = stage ? managed.versions[stage]?.tokenId : undefined;
  const { secretName } = managed;
  if (stage === Stage.Current) return ok(CheckId.Secret, `the token is AWSCURRENT (${id}) of ${secretName}`);
  if (stage === Stage.Pending) return ok(CheckId.Secret, `the token is AWSPENDING (${id}) of ${secretName}: being introduced by a rotation`);
  if (stage === Stage.Previous) {
    const state =
      whoamiValid === false
        ? "already revoked: the rotation finished while this consumer kept the old value"
        : "still valid while consumers move, and revoked once the rotation completes";
    return problem(CheckId.Secret, `the token is AWSPREVIOUS (${id}) of ${secretName}, the one being retired: ${state}`, `${RELOAD} (it cached the old token)`);
  }
  const current = managed.versions[Stage.Current]?.tokenId;
  return problem(
    CheckId.Secret,
    `${secretName} no longer knows this token (AWSCURRENT is ${current ?? "missing"}): a stale cache, the guide's "502 or 504 right after token rotation"`,
    `${RELOAD}; it must read AWSCURRENT of ${secretName}`,
  );
}
