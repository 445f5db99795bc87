/**
 * The stack program: one stack per environment, each declaring that environment's gateway tokens.
 * Configuration is validated as a whole first, so that a bad token is refused before any is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatewayToken } from "../src/provider/gateway-token";
import { loadStackConfig } from "./config";
import { buildProviderRuntime } from "./provider-runtime";

const config = loadStackConfig();
buildProviderRuntime();

const tokens = config.tokens.map(
  (token) =>
    new GatewayToken(token.name, {
      ...token,
      scopes: [...token.scopes],
      environment: config.environment,
      gatewayUrl: config.gatewayUrl,
      adminToken: config.adminToken,
      backend: config.backend,
    }),
);

/** Per token, where its consumers read it: the secret's AWSCURRENT version. */
export const tokenSecrets = pulumi
  .all(tokens.map((t) => pulumi.all([t.urn, t.secretName, t.secretArn])))
  .apply((rows) => Object.fromEntries(rows.map(([urn, secretName, secretArn]) => [urn.split("::").pop() as string, { secretName, secretArn }])));
export const environment = config.environment;
