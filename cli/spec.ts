/**
 * Every command and option of the CLI, declared once: the parser, the per-command help, the usage text and the
 * shell completions are all derived from these tables.
 */

export const Command = {
  Status: "status",
  Rotate: "rotate",
  Revoke: "revoke",
  Verify: "verify",
  Doctor: "doctor",
  Audit: "audit",
  Consumers: "consumers",
  BootstrapRotator: "bootstrap-rotator",
  Completion: "completion",
  Help: "help",
  Version: "version",
} as const;
export type Command = (typeof Command)[keyof typeof Command];

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** The value's placeholder in help, e.g. URL. */
  readonly value?: string;
  /** The environment variable read when the flag is absent. */
  readonly env?: string;
  readonly short?: string;
  readonly description: string;
}

export const OPTIONS = {
  environment: { type: "string", value: "dev|stage|prod", env: "OPENCLAW_ENVIRONMENT", description: "the stack's environment (required)" },
  "gateway-url": { type: "string", value: "URL", env: "OPENCLAW_GATEWAY_URL", description: "the gateway; default: the one the environment's tokens name" },
  backend: { type: "string", value: "KIND", env: "OPENCLAW_BACKEND", description: "documented-api | openclaw-devices; default: from the tokens" },
  "admin-secret-id": { type: "string", value: "ID", env: "OPENCLAW_ADMIN_SECRET_ID", description: "the gateway admin token's secret; default: openclaw-admin/<env>/gateway" },
  "ledger-table": { type: "string", value: "NAME", env: "OPENCLAW_LEDGER_TABLE", description: "the environment's ledger table (declarations and rotation state); default: openclaw-rotator-<env>-ledger" },
  "quiet-period": { type: "string", value: "DURATION", env: "OPENCLAW_QUIET_PERIOD", description: "how long the old token must go unused before it is revoked; default 15m" },
  live: { type: "boolean", description: "also ask the gateway (needs the admin token): last traffic, its view of each token" },
  emergency: { type: "boolean", description: "required: says that the token leaked" },
  endpoint: { type: "string", value: "'METHOD /path'", description: "the endpoint the token must be allowed to call, e.g. 'POST /v1/jobs'" },
  via: { type: "string", value: "URL", description: "the proxy consumers go through, compared with the direct gateway URL" },
  since: { type: "string", value: "TIME", description: "start of the window: an ISO time or a duration back from now (24h, 7d); default 7d" },
  "new-after": { type: "string", value: "TIME", description: "flag consumers first seen after this time (ISO, or a duration back from now)" },
  "token-id": { type: "string", value: "ID", description: "audit this gateway token ID too (a token the secret no longer names)" },
  json: { type: "boolean", description: "results as JSON on stdout; errors as JSON on stderr" },
  debug: { type: "boolean", description: "stack traces with errors" },
  help: { type: "boolean", short: "h", description: "this command's help" },
  version: { type: "boolean", description: "the CLI's version" },
} as const satisfies Record<string, OptionSpec>;
export type OptionName = keyof typeof OPTIONS;

export interface CommandSpec {
  readonly name: Command;
  readonly summary: string;
  /** Positional arguments after the command, e.g. ["NAME"]; a trailing "?" marks an optional one. */
  readonly positionals: readonly string[];
  readonly options: readonly OptionName[];
  readonly examples: readonly string[];
  /** Longer text shown by `COMMAND --help`, after the summary. */
  readonly details?: string;
}

/** The options that reach AWS and the gateway, shared by the commands that work on an environment. */
const STACK: readonly OptionName[] = ["environment", "gateway-url", "backend", "admin-secret-id", "ledger-table"];
const OUTPUT: readonly OptionName[] = ["json", "debug", "help"];

export const COMMANDS: Readonly<Record<Command, CommandSpec>> = {
  status: {
    name: "status",
    summary: "every managed token of the environment: phase, age, share of TTL used, next rotation, problems",
    positionals: [],
    options: [...STACK, "live", ...OUTPUT],
    examples: ["openclaw-tokens status --environment prod", "openclaw-tokens status --environment prod --live --json"],
    details: "Exit code 3 when a token has a problem.",
  },
  rotate: {
    name: "rotate",
    summary: "start a rotation of token NAME now; the old token stays valid until consumers have moved",
    positionals: ["NAME"],
    options: [...STACK, "quiet-period", ...OUTPUT],
    examples: ["openclaw-tokens rotate ci-runner --environment prod"],
  },
  revoke: {
    name: "revoke",
    summary: "the leak response: revoke NAME's tokens at once, issue a replacement, print the leak checklist",
    positionals: ["NAME"],
    options: [...STACK, "emergency", ...OUTPUT],
    examples: ["openclaw-tokens revoke ci-runner --emergency --environment prod"],
    details: "Only for a leaked token: consumers fail until they reload. To replace a token routinely, use rotate.",
  },
  verify: {
    name: "verify",
    summary: "ask the gateway who the stored token (AWSCURRENT) of NAME is",
    positionals: ["NAME"],
    options: [...STACK, ...OUTPUT],
    examples: ["openclaw-tokens verify ci-runner --environment prod"],
  },
  doctor: {
    name: "doctor",
    summary: "diagnose a 401/403: every check of the guide's failure-mode table, with the fix",
    positionals: ["NAME?"],
    options: [...STACK, "endpoint", "via", ...OUTPUT],
    examples: [
      "printenv OPENCLAW_GATEWAY_TOKEN | openclaw-tokens doctor --gateway-url https://gateway.openclaw.example --endpoint 'POST /v1/jobs'",
      "openclaw-tokens doctor ci-runner --environment prod   # the managed token's own checks",
    ],
    details:
      "The token comes from OPENCLAW_GATEWAY_TOKEN or stdin, never from the command line, and is never printed.\n" +
      "With NAME, the token a consumer holds is also compared with the secret (AWSCURRENT, AWSPREVIOUS, or stale);\n" +
      "without a token, NAME's AWSCURRENT is checked. Exit code 3 when a check finds a problem.",
  },
  audit: {
    name: "audit",
    summary: "the request log of NAME's current and previous tokens, by consumer, endpoint and status",
    positionals: ["NAME"],
    options: [...STACK, "since", "new-after", "token-id", ...OUTPUT],
    examples: ["openclaw-tokens audit ci-runner --environment prod --since 24h --new-after 2026-04-02T00:00:00Z"],
    details: "Flags consumers first seen after --new-after and calls made after a token was revoked. Exit code 3 when any is flagged.",
  },
  consumers: {
    name: "consumers",
    summary: "who calls with NAME's tokens: each consumer's last use of the new and the old token, and who a drain waits for",
    positionals: ["NAME"],
    options: [...STACK, ...OUTPUT],
    examples: ["openclaw-tokens consumers ci-runner --environment prod", "openclaw-tokens consumers ci-runner --environment prod --json"],
    details:
      "A consumer is the X-OpenClaw-Consumer header its requests carry, else its address and User-Agent.\n" +
      "Exit code 3 when consumers are still on the old token (the rotator waits for them, or revokes at the deadline).",
  },
  "bootstrap-rotator": {
    name: "bootstrap-rotator",
    summary: "give the rotator its own admin:tokens credential (7d TTL, rotated by the rotator), minted with a break-glass token",
    positionals: [],
    options: [...STACK, ...OUTPUT],
    examples: ["OPENCLAW_ADMIN_TOKEN=\"$(pass show openclaw/prod/break-glass)\" openclaw-tokens bootstrap-rotator --environment prod --gateway-url https://gateway.openclaw.example"],
    details:
      "Needs the break-glass admin:* token in OPENCLAW_ADMIN_TOKEN (never a flag) for this command only; it is stored nowhere.\n" +
      "Creates openclaw-admin/<env>/rotator and its ledger entry; run again, it does nothing while the credential works,\n" +
      "and issues a new one when the credential is dead (expired while the rotator was stopped, revoked, or tampered with).",
  },
  completion: {
    name: "completion",
    summary: "a shell completion script for bash or zsh",
    positionals: ["SHELL"],
    options: ["help"],
    examples: ["source <(openclaw-tokens completion bash)", "openclaw-tokens completion zsh > \"${fpath[1]}/_openclaw-tokens\""],
  },
  help: {
    name: "help",
    summary: "this text, or a command's help (help COMMAND)",
    positionals: ["COMMAND?"],
    options: ["help"],
    examples: ["openclaw-tokens help doctor"],
  },
  version: {
    name: "version",
    summary: "the CLI's version",
    positionals: [],
    options: ["help"],
    examples: ["openclaw-tokens --version"],
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS) as Command[];

export function isCommand(word: string): word is Command {
  return Object.hasOwn(COMMANDS, word);
}
