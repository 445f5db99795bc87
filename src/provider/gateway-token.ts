import * as pulumi from "@pulumi/pulumi";
import type { ProviderRuntime } from "./runtime";

/**
 * The provider Pulumi serialises into state is only this shell: each verb loads the bundled runtime
 * (dist/provider-runtime.js, built by scripts/build.mjs) and forwards to it. So state holds a few hundred bytes
 * of stable code, no SDK client and no credential, and an upgrade of the runtime applies to existing resources
 * without showing every token as changed.
 */
function loadRuntime(): ProviderRuntime {
  // Runs in the engine's provider process, whose working directory is the program's folder (infra/ here, or a
  // team's own program that depends on this package): look upwards for this package and its built runtime.
  const fs = require("node:fs");
  const path = require("node:path");
  const relative = path.join("dist", "provider-runtime.js");
  let file: string | undefined = process.env.OPENCLAW_TOKEN_OPS_PROVIDER_RUNTIME || undefined;
  for (let dir = process.cwd(); !file; dir = path.dirname(dir)) {
    for (const root of [dir, path.join(dir, "node_modules", "openclaw-token-ops")]) {
      const manifest = path.join(root, "package.json");
      if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "openclaw-token-ops") {
        file = path.join(root, relative);
        break;
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  if (!file || !fs.existsSync(file)) {
    throw new Error(
      `GatewayToken provider runtime not found (${file ?? `no openclaw-token-ops package above ${process.cwd()}`}): ` +
        "run `npm run setup` in the openclaw-token-ops folder (it builds dist/), or set OPENCLAW_TOKEN_OPS_PROVIDER_RUNTIME",
    );
  }
  return require(file).providerRuntime;
}

const shell: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => loadRuntime().check(olds, news),
  diff: (id, olds, news) => loadRuntime().diff(id, olds, news),
  create: (inputs) => loadRuntime().create(inputs),
  read: (id, props) => loadRuntime().read(id, props),
  update: (id, olds, news) => loadRuntime().update(id, olds, news),
  delete: (id, props) => loadRuntime().delete(id, props),
};

/** A gateway token declared in a stack. Field by field, see GatewayTokenInputs in inputs.ts. */
export interface GatewayTokenArgs {
  /** Token name, naming its consumer (e.g. "ci-runner"); the gateway name adds a mint stamp. */
  readonly name: pulumi.Input<string>;
  /**
   * Least privilege: the scopes the consumer needs, from the backend's set. documented-api: read:agents, read:jobs,
   * run:jobs, write:agents, admin:tools, admin:*. openclaw-devices: operator.read, operator.write, operator.admin,
   * operator.pairing, operator.approvals, operator.questions, operator.talk, operator.talk.secrets,
   * operator.sessions.read, operator.sessions.write. admin:* and operator.admin need allowAdminScope.
   */
  readonly scopes: pulumi.Input<pulumi.Input<string>[]>;
  /** Lifetime of each token, e.g. "30d" or "90d" (1h to 365d). */
  readonly ttl: pulumi.Input<string>;
  /** dev, stage or prod; must agree with the gateway URL (and, for documented-api, the admin token's prefix). */
  readonly environment: pulumi.Input<string>;
  /**
   * The environment's gateway; https, or http on loopback outside prod. For openclaw-devices too the http(s) base URL,
   * never ws:// or wss://: the WebSocket URL is derived from it (https -> wss, http -> ws, same host and port).
   */
  readonly gatewayUrl: pulumi.Input<string>;
  /**
   * openclaw-devices: the gateway's shared token (gateway.auth.token), which pairs and removes devices; pass it as a
   * secret (`pulumi config set --secret`). documented-api: leave it out, and the provider mints with the environment's
   * rotator credential (an admin:tokens token it reads from openclaw-admin/<env>/rotator when it acts, never keeping it
   * in state; `openclaw-tokens bootstrap-rotator` creates it once). An admin token given here is kept in state.
   */
  readonly adminToken?: pulumi.Input<string>;
  /** Fraction of the TTL after which the rotator replaces the token. @default 0.8 */
  readonly rotationFraction?: pulumi.Input<number>;
  /**
   * How long the token's consumers may cache it ("1h" is the AWS caching clients' default): the rotator revokes the
   * old token only once every consumer moved or has been silent on it longer than this. @default "1h"
   */
  readonly consumerCacheTtl?: pulumi.Input<string>;
  /** Where the token lives in Secrets Manager. @default "openclaw/<environment>/<name>" */
  readonly secretName?: pulumi.Input<string>;
  /** Explicit opt-in for admin:* (operator.admin on openclaw-devices), kept for break-glass tokens. @default false */
  readonly allowAdminScope?: pulumi.Input<boolean>;
  /** Days the secret stays recoverable after destroy; 0 deletes at once. @default 7 */
  readonly recoveryWindowDays?: pulumi.Input<number>;
  /**
   * Take over an existing secret instead of minting: after lost state, or for a token made by hand (dynamic resources
   * cannot be `pulumi import`ed). Create proves with whoami that the secret's AWSCURRENT token has this declaration's
   * name (the name, or the name plus a stamp), scopes and environment, and is not expired; otherwise it refuses, with
   * the fix, and creates nothing. The token is recorded as it is, not rotated. @default false
   */
  readonly adopt?: pulumi.Input<boolean>;
  /** Gateway implementation: "documented-api", or "openclaw-devices" (the real gateway's paired operator devices). @default "documented-api" */
  readonly backend?: pulumi.Input<string>;
  /** Secrets Manager region. @default the AWS SDK's (AWS_REGION) */
  readonly awsRegion?: pulumi.Input<string>;
}

export class GatewayToken extends pulumi.dynamic.Resource {
  /** Name of the secret whose AWSCURRENT version holds the token. */
  declare readonly secretName: pulumi.Output<string>;
  declare readonly secretArn: pulumi.Output<string>;
  /** ID of the token the last Pulumi operation minted (the rotator's later tokens are in the secret's tags). */
  declare readonly tokenId: pulumi.Output<string>;
  declare readonly expiresAt: pulumi.Output<string>;
  /** "active", or the drift refresh found ("revoked", "expired"), which the next up repairs. */
  declare readonly tokenStatus: pulumi.Output<string>;

  constructor(name: string, args: GatewayTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      shell,
      name,
      { secretArn: undefined, tokenId: undefined, expiresAt: undefined, tokenStatus: undefined, secretName: undefined, ...args },
      {
        ...opts,
        // The admin credential must stay encrypted in state however the caller passed it.
        additionalSecretOutputs: ["adminToken", ...(opts?.additionalSecretOutputs ?? [])],
      },
      "openclaw",
      "GatewayToken",
    );
  }
}
