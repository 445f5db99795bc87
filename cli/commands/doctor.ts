/**
 * `doctor [NAME]`: the guide's failure-mode table as a command. The token comes from OPENCLAW_GATEWAY_TOKEN or
 * stdin (never argv, which shell history and `ps` keep); with NAME, the managed token's secret says which version
 * the consumer holds, and without a token its AWSCURRENT is checked.
 */
import { ALL_ENVIRONMENTS, isEnvironment } from "../../src/domain/environments";
import { gatewayUrlProblems } from "../../src/domain/gateway-url";
import { BackendKind } from "../../src/gateway/backend";
import { TokenRecord } from "../../src/store/record";
import { Stage } from "../../src/store/token-store";
import { ParsedArgs } from "../args";
import { CliContext } from "../context";
import { CheckStatus } from "../doctor/check";
import { diagnose, Diagnosis } from "../doctor/diagnose";
import { ManagedToken } from "../doctor/managed";
import { CommandFailedError, UsageError } from "../errors";
import { resolveOptions } from "../options";
import { ExitCode, Output } from "../output";
import { Io } from "../run";
import { Command } from "../spec";

export interface DoctorRun {
  readonly args: ParsedArgs;
  readonly env: NodeJS.ProcessEnv;
  readonly io: Io;
  readonly output: Output;
}

export async function doctor({ args, env, io, output }: DoctorRun): Promise<ExitCode> {
  const given = await readToken(env, io);
  const name = args.name;
  const gatewayFlag = (args.options["gateway-url"] ?? env.OPENCLAW_GATEWAY_URL) || undefined;
  const environment = (args.options.environment ?? env.OPENCLAW_ENVIRONMENT) || undefined;
  if (environment !== undefined && !isEnvironment(environment)) {
    throw new UsageError(`--environment "${environment}" is not one of ${ALL_ENVIRONMENTS.join(", ")}`, undefined, Command.Doctor);
  }

  let managed: ManagedToken | undefined;
  let gatewayUrl = gatewayFlag;
  let token = given?.value;
  let source = given?.source;
  if (name !== undefined) {
    const ctx = new CliContext(resolveOptions(args, env), output);
    try {
      managed = await readManaged(ctx, name);
    } finally {
      ctx.close();
    }
    const current = managed.versions[Stage.Current];
    if (!current) throw new CommandFailedError("no_current_version", `${managed.secretName} has no AWSCURRENT version`, { hint: "run pulumi up to re-create the token" });
    if (current.backend !== BackendKind.DocumentedApi) {
      throw new CommandFailedError("doctor_backend", `${name} is a token of an OpenClaw gateway (${current.backend}); doctor checks the documented token API's answers`, {
        hint: `run \`openclaw-tokens verify ${name}\` instead`,
      });
    }
    if (token === undefined) {
      // The stored value goes only to the gateway that issued it.
      if (gatewayFlag && gatewayFlag.replace(/\/+$/, "") !== current.gatewayUrl.replace(/\/+$/, "")) {
        throw new CommandFailedError("gateway_mismatch", `${name}'s token belongs to ${current.gatewayUrl}; refusing to send it to ${gatewayFlag}`, {
          hint: "drop --gateway-url (or OPENCLAW_GATEWAY_URL), or point it at the token's own gateway",
        });
      }
      const via = args.options.via;
      const viaProblems = via === undefined ? [] : gatewayUrlProblems(via, current.environment);
      if (viaProblems.length) {
        throw new CommandFailedError("via_refused", `the stored token goes through --via ${via} only to a URL its gateway could have: ${viaProblems.join("; ")}`, {
          hint: "give the proxy's https URL, or pipe a consumer's token on stdin instead",
        });
      }
      token = current.token.reveal();
      source = `AWSCURRENT of ${managed.secretName}`;
    }
    gatewayUrl ??= current.gatewayUrl;
  }
  if (token === undefined || source === undefined) {
    throw new UsageError(
      "doctor needs the token to check",
      "pipe it on stdin (`printenv OPENCLAW_GATEWAY_TOKEN | openclaw-tokens doctor ...`) or set OPENCLAW_GATEWAY_TOKEN, or name a managed token; never on the command line",
      Command.Doctor,
    );
  }
  if (gatewayUrl === undefined) {
    throw new UsageError("doctor needs the gateway URL", "pass --gateway-url URL or set OPENCLAW_GATEWAY_URL", Command.Doctor);
  }

  const diagnosis = await diagnose({
    token,
    gatewayUrl: gatewayUrl.replace(/\/+$/, ""),
    environment: environment as DoctorEnvironment,
    endpoint: args.options.endpoint,
    via: args.options.via?.replace(/\/+$/, ""),
    managed,
  });
  output.data({ ...diagnosis, token: { source, ...diagnosis.token }, ok: diagnosis.problems === 0 });
  output.text(render(diagnosis, source, output));
  return diagnosis.problems ? ExitCode.ProblemsFound : ExitCode.Ok;
}

type DoctorEnvironment = Parameters<typeof diagnose>[0]["environment"];

interface GivenToken {
  readonly value: string;
  readonly source: string;
}

/** OPENCLAW_GATEWAY_TOKEN, else stdin when it is not a terminal and holds something. Kept as given: doctor checks the whitespace too. */
async function readToken(env: NodeJS.ProcessEnv, io: Io): Promise<GivenToken | undefined> {
  const fromEnv = env.OPENCLAW_GATEWAY_TOKEN;
  if (fromEnv) return { value: fromEnv, source: "OPENCLAW_GATEWAY_TOKEN" };
  const stdin = io.stdin;
  if (!stdin || stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  const text = Buffer.concat(chunks).toString("utf8");
  // One trailing newline is what `echo` and `printenv` add, not part of the value a consumer loads.
  const value = text.replace(/\r?\n$/, "");
  return value ? { value, source: "stdin" } : undefined;
}

async function readManaged(ctx: CliContext, name: string): Promise<ManagedToken> {
  const secret = await ctx.findToken(name);
  const versions: Partial<Record<Stage, TokenRecord>> = {};
  const secretName = secret.declaration.secretName;
  for (const stage of [Stage.Current, Stage.Pending, Stage.Previous]) {
    // Only compared with the token the caller holds: nothing is decided from what the secret says about itself.
    const record = await ctx.store.read(secretName, stage).catch(() => undefined);
    if (record) versions[stage] = record;
  }
  return { name, secretName, versions };
}

const LABEL: Record<CheckStatus, { readonly text: string; readonly style: Parameters<Output["styled"]>[0] }> = {
  ok: { text: "ok", style: "green" },
  problem: { text: "PROBLEM", style: ["bold", "red"] },
  info: { text: "info", style: "cyan" },
  skipped: { text: "skipped", style: "dim" },
};

function render(d: Diagnosis, source: string, output: Output): string {
  const width = Math.max(...d.checks.map((c) => c.id.length));
  const lines = [
    `gateway  ${d.gateway.url}${d.gateway.environment ? ` (${d.gateway.environment})` : ""}`,
    `token    from ${source}, ${d.token.length} characters${d.token.id ? `, ${d.token.id}` : ""} (the value is never printed)`,
    "",
  ];
  for (const check of d.checks) {
    const label = LABEL[check.status];
    lines.push(`${output.styled(label.style, label.text.padEnd(8))} ${check.id.padEnd(width)}  ${check.message}`);
    if (check.fix && check.status !== CheckStatus.Ok) lines.push(`${" ".repeat(8)} ${" ".repeat(width)}  fix: ${check.fix}`);
  }
  lines.push("", d.problems ? `${d.problems} problem${d.problems > 1 ? "s" : ""} found.` : "No problems found.");
  return lines.join("\n");
}
