/**
 * What can be told about a token from its characters alone: the guide's "truncated copy", "stray whitespace",
 * quotes and a newline from a file, a provider key sent where a gateway token belongs, the environment its
 * prefix names. Nothing here leaves the process, and no message quotes the value.
 */
import { ALL_ENVIRONMENTS, Environment, TOKEN_PREFIX } from "../../src/domain/environments";
import { Check, CheckId, ok, problem } from "./check";

/** Lookup id (12) and secret (43) after the prefix, base64url (docs/gateway-api.md "Format"). */
export const BODY_LENGTH = 55;
const BODY = /^[A-Za-z0-9_-]+$/;

/** Provider API keys by their published prefixes: the guide's "an Anthropic key in the Authorization header". */
const PROVIDER_KEYS: ReadonlyArray<{ readonly vendor: string; readonly pattern: RegExp }> = [
  { vendor: "Anthropic", pattern: /^sk-ant-/ },
  { vendor: "OpenAI", pattern: /^sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}/ },
  { vendor: "Google", pattern: /^AIza[0-9A-Za-z_-]{30,}/ },
];

export interface ShapeResult {
  readonly checks: readonly Check[];
  /** The value with what a loader adds by mistake (whitespace, quotes, a `Bearer ` scheme) taken off. */
  readonly cleaned: string;
  /** The environment the prefix names, if any. */
  readonly environment: Environment | undefined;
  /** A provider's key, not a gateway token at all: asking the gateway about it is pointless. */
  readonly providerKey: boolean;
}

export function inspectToken(raw: string): ShapeResult {
  const faults: string[] = [];
  let value = raw;
  if (/^\s|\s$/.test(value)) {
    faults.push(/[\r\n]\s*$/.test(value) ? "it ends with a newline (read from a file?)" : "it has whitespace around it");
    value = value.trim();
  }
  if (/^(["'`]).*\1$/s.test(value)) {
    faults.push("it is wrapped in quotes");
    value = value.slice(1, -1).trim();
  }
  if (/^bearer\s+/i.test(value)) {
    faults.push("it includes the scheme: the variable must hold the token alone, the client adds `Bearer `");
    value = value.replace(/^bearer\s+/i, "");
  }

  const vendor = PROVIDER_KEYS.find((p) => p.pattern.test(value))?.vendor;
  const environment = ALL_ENVIRONMENTS.find((env) => value.startsWith(TOKEN_PREFIX[env]));
  const checks: Check[] = [];

  if (vendor) {
    checks.push(
      problem(
        CheckId.ProviderKey,
        `this is an ${vendor} API key, not an OpenClaw gateway token`,
        `the provider key belongs on the OpenClaw server; give the client a gateway token (openclaw_gw_..._...) from the gateway's admin`,
      ),
    );
  } else {
    checks.push(ok(CheckId.ProviderKey, "not a provider (Anthropic, OpenAI, Google) key"));
  }

  if (environment) {
    const body = value.slice(TOKEN_PREFIX[environment].length);
    if (!BODY.test(body)) faults.push(`it has characters a gateway token never has (${describeStrays(body)})`);
    else if (body.length < BODY_LENGTH) faults.push(`it is ${BODY_LENGTH - body.length} characters short: a truncated copy`);
    else if (body.length > BODY_LENGTH) faults.push(`it is ${body.length - BODY_LENGTH} characters too long: something is appended`);
  } else if (!vendor) {
    faults.push(`it has no gateway token prefix (${ALL_ENVIRONMENTS.map((e) => TOKEN_PREFIX[e]).join(", ")})`);
  }

  const length = `${raw.length} characters${value.length !== raw.length ? `, ${value.length} once cleaned` : ""}`;
  if (faults.length) {
    checks.unshift(
      problem(CheckId.Format, `${faults.join("; ")} (${length})`, "copy the token in full from the secret store, and load it without quotes or whitespace; managed tokens are >40 characters"),
    );
  } else {
    checks.unshift(ok(CheckId.Format, `length and characters of a whole gateway token (${length})`));
  }
  return { checks, cleaned: value, environment, providerKey: vendor !== undefined };
}

/** Which kinds of stray characters a body has, never the characters themselves. */
function describeStrays(body: string): string {
  const kinds = new Set<string>();
  for (const ch of body) {
    if (/[A-Za-z0-9_-]/.test(ch)) continue;
    kinds.add(/\s/.test(ch) ? "whitespace" : /["'`]/.test(ch) ? "quotes" : ch.charCodeAt(0) > 127 ? "non-ASCII" : "punctuation");
  }
  return [...kinds].join(", ");
}
