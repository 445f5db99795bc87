/** The usage text: printed by `help`, and after every usage error. */
export const USAGE = `usage: openclaw-tokens <command> [options]

commands:
  status                   every managed token of the environment: phase, age, share of TTL used,
                           next rotation, last traffic, problems
  rotate NAME              start a rotation of token NAME now; the old token stays valid until
                           consumers have moved, then a scheduled run revokes it
  revoke NAME --emergency  the leak response: revoke NAME's tokens at once and issue a replacement
  verify NAME              ask the gateway who the stored token (AWSCURRENT) is
  help                     this text

options (flag, or the environment variable named):
  --environment dev|stage|prod  OPENCLAW_ENVIRONMENT (required)
  --gateway-url URL             OPENCLAW_GATEWAY_URL; default: the gateway the environment's tokens name
  --backend KIND                OPENCLAW_BACKEND: documented-api | openclaw-devices; default: from the tokens
  --admin-secret-id ID          OPENCLAW_ADMIN_SECRET_ID; default: openclaw-admin/<env>/gateway
  --ledger-table NAME           OPENCLAW_LEDGER_TABLE; default: openclaw-rotator-<env>-ledger
  --quiet-period DURATION       OPENCLAW_QUIET_PERIOD: how long the old token must go unused before
                                it is revoked; default 15m
  --json                        results as JSON on stdout, log lines as JSON on stderr
  --debug                       stack traces with errors

NAME is a token's declared name (ci-runner), not its secret name (openclaw/<env>/ci-runner).
AWS is reached through the SDK's usual settings: AWS_PROFILE, AWS_REGION, and AWS_ENDPOINT_URL for the
local stack. Exit codes: 0 success, 1 failure, 2 bad usage. Token values are never printed.`;
