import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseServeArgs } from "../../reference-gateway/cli";

/**
 * The deployment files of the token front (deploy/token-front/) agree with each other and with the CLI: the
 * address the front connects from is the one OpenClaw trusts, the user header is the same on both sides, and
 * every `serve` option they pass is one the CLI accepts.
 */
const DEPLOY = resolve(__dirname, "../../deploy/token-front");
const read = (file: string): string => readFileSync(resolve(DEPLOY, file), "utf8");

/** The `serve` arguments of a shell command line with `\` continuations, variables replaced by samples. */
function serveArgs(commandLine: string): string[] {
  const joined = commandLine.replace(/\\\n\s*/g, " ");
  const words = joined.split(/\s+/).filter((w) => w !== "");
  return words
    .slice(words.indexOf("serve") + 1)
    .map((w) => w.replace(/^"|"$/g, "").replace("$TOKEN_FRONT_ENVIRONMENT", "prod").replace("$TOKEN_FRONT_PORT", "8443").replace("$OPENCLAW_UPSTREAM", "http://127.0.0.1:18789"));
}

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
}

describe("deploy/token-front", () => {
  const config = JSON.parse(read("openclaw.json")) as {
    gateway: { bind: string; trustedProxies: string[]; auth: { mode: string; token?: string; trustedProxy: { userHeader: string; allowLoopback: boolean } } };
  };
  const unitExec = /^ExecStart=.*?(?=\n[A-Z#])/ms.exec(read("openclaw-token-front.service"))?.[0] ?? "";
  const containerCmd = /^CMD .*$/ms.exec(read("Containerfile"))?.[0] ?? "";

  it.each([
    ["the systemd unit", unitExec],
    ["the container", containerCmd],
  ])("%s connects from the one address OpenClaw trusts, with OpenClaw's user header", (_, commandLine) => {
    const args = serveArgs(commandLine);

    expect(args.length).toBeGreaterThan(0);
    expect(config.gateway.auth.mode).toBe("trusted-proxy");
    expect(config.gateway.auth.token).toBeUndefined();
    expect(config.gateway.trustedProxies).toEqual([option(args, "upstream-source-address")]);
    expect(config.gateway.auth.trustedProxy.allowLoopback).toBe(true);
    expect(option(args, "upstream-user-header")).toBe(config.gateway.auth.trustedProxy.userHeader);
    expect(config.gateway.bind).toBe("loopback");
    expect(option(args, "upstream")).toBe("http://127.0.0.1:18789");
  });

  it.each([
    ["the systemd unit", unitExec],
    ["the container", containerCmd],
  ])("%s passes only options the CLI accepts, with the values it means", (_, commandLine) => {
    const settings = parseServeArgs(serveArgs(commandLine));

    expect(settings.port).toBe(8443);
    expect(settings.gateway).toMatchObject({
      environment: "prod",
      stateDir: "/var/lib/openclaw-token-front",
      upstream: { userHeader: "x-forwarded-user", sourceAddress: "127.0.0.2", localConsumerAddress: "100.64.0.1" },
    });
    expect(settings.gateway.upstream?.url.origin).toBe("http://127.0.0.1:18789");
  });
});
