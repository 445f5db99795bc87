/** The openclaw-devices backend: the real OpenClaw gateway, whose tokens are paired operator devices. */
export { ADMIN_RPC_PATH, AdminRpcClient } from "./admin-rpc";
export { OpenClawConnection, webSocketUrlOf } from "./connection";
export type { ClientMetadata, ConnectOptions, HandshakeTiming } from "./connection";
export { CREDENTIAL_KIND, CREDENTIAL_VERSION, CredentialFormatError, parseCredential, serializeCredential } from "./credential";
export type { DeviceCredential, PairingClient } from "./credential";
export { DeviceIdentity, deviceAuthPayloadV3, deviceIdOf } from "./device-identity";
export { AdminRpcDisabledError, ConnectionLostError, GatewayBusyError, PairingMismatchError } from "./errors";
export { DEFAULT_PAIRING_CLIENT, OpenClawDevicesGateway } from "./openclaw-devices";
export type { OpenClawDevicesOptions } from "./openclaw-devices";
export {
  ALL_OPERATOR_SCOPES,
  canonicalOperatorScopes,
  isOperatorScope,
  OPERATOR_ROLE,
  OperatorScope,
  operatorScopeSatisfies,
  sameScopeSet,
} from "./scopes";
