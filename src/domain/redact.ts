/** Anything shaped like a gateway token, anywhere in a string. */
const TOKEN_PATTERN = /(openclaw_gw_[a-z]+_)[A-Za-z0-9_-]+/g;

/**
 * Text from elsewhere (a server's error body, an SDK message) with every token-shaped substring cut down
 * to its environment prefix, so that a message can be logged or thrown without carrying a credential.
 */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, "$1[REDACTED]");
}
