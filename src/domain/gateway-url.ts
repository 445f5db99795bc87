import { Environment } from "./environments";
import { redactTokens } from "./redact";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Words in a host name that say which environment it serves (gateway-dev.openclaw.ai, gw.staging.example, gw_dev1). */
const ENVIRONMENT_WORDS: Readonly<Record<string, Environment>> = {
  dev: "dev",
  development: "dev",
  stage: "stage",
  staging: "stage",
  prod: "prod",
  production: "prod",
  live: "prod",
};

/** The environment a gateway's host name names, if it names exactly one. */
export function environmentOfHost(hostname: string): Environment | undefined {
  const named = new Set(
    hostname
      .toLowerCase()
      .split(/[^a-z]+/)
      .map((word) => ENVIRONMENT_WORDS[word])
      .filter((env): env is Environment => env !== undefined),
  );
  return named.size === 1 ? [...named][0] : undefined;
}

/**
 * Problems with a gateway URL for an environment, as sentences that say what to write instead. Checked: a plain
 * http(s) URL with no credentials or query, https except on loopback (and always in prod, which is never on
 * loopback), and a host name that does not name another environment.
 */
export function gatewayUrlProblems(text: string, environment: Environment): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Shown to help find the typo, but never with what may be a credential in it.
    const shown = redactTokens(text).replace(/\/\/[^/]*@/, "//[credentials removed]@");
    return [`"${shown}" is not a URL; write it as https://gateway.example.com`];
  }
  const problems: string[] = [];
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    problems.push(`the scheme is ${url.protocol.replace(":", "")}; use https://`);
  } else if (url.protocol === "http:" && environment === "prod") {
    problems.push("a prod gateway must be reached over https://");
  } else if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    problems.push(`plain http is only allowed on loopback; use https://${url.host}`);
  } else if (environment === "prod" && isLoopbackHost(url.hostname)) {
    problems.push(`a prod gateway cannot be on loopback (${url.host}); use the prod gateway's https:// address`);
  }
  if (url.username || url.password) problems.push("the URL must not carry credentials; pass the admin token as adminToken");
  if (url.search || url.hash) problems.push("the URL must not have a query string or fragment");
  const named = environmentOfHost(url.hostname);
  if (named && named !== environment) {
    problems.push(`host ${url.hostname} names the ${named} environment, but this token is for ${environment}`);
  }
  return problems;
}
