/**
 * The package's main entry: the GatewayToken resource for a team's own Pulumi program, and the types its inputs
 * use. The rotator's deployment is `openclaw-token-ops/rotator`, the consumer client `openclaw-token-ops/client`.
 */
export { GatewayToken } from "./provider/gateway-token";
export type { GatewayTokenArgs } from "./provider/gateway-token";
export type { GatewayTokenInputs } from "./provider/inputs";
export { ALL_ENVIRONMENTS, Environment, TOKEN_PREFIX } from "./domain/environments";
export { ALL_SCOPES, Scope } from "./domain/scopes";
export { TokenOpsError, ValidationError } from "./domain/errors";
export type { Problem } from "./domain/errors";
export { Sensitive } from "./domain/sensitive";
