import { TokenOpsError } from "../src/domain/errors";
import type { Command } from "./spec";

/** The command line cannot be acted on: printed with the usage text, exit code 2. */
export class UsageError extends TokenOpsError {
  override name = "UsageError";
  constructor(
    message: string,
    hint?: string,
    /** The command whose usage was wrong, when known: its usage line is printed instead of the whole text. */
    readonly command?: Command,
  ) {
    super("usage", message, { hint });
  }
}

/** A command ran but could not do what was asked (a refused token, a failed rotation): exit code 1. */
export class CommandFailedError extends TokenOpsError {
  override name = "CommandFailedError";
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/**
 * What to do about AWS SDK failures that arrive without a hint of ours (credentials, region, endpoint), found by
 * the error's name or network code anywhere along its cause chain.
 */
export function awsHint(error: unknown, endpointUrl: string | undefined): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, code, message } = e as { name?: string; code?: string; message?: string };
    if (name === "CredentialsProviderError") {
      return "configure AWS credentials (AWS_PROFILE, `aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); for the local stack export the AWS_* variables it prints";
    }
    if (name === "ExpiredTokenException" || name === "ExpiredToken") return "your AWS session expired; log in again (`aws sso login`) and retry";
    if (name === "UnrecognizedClientException" || name === "InvalidSignatureException") {
      return "AWS rejected the credentials; check AWS_PROFILE, or that AWS_ENDPOINT_URL points at the local stack if you meant to use it";
    }
    if (typeof message === "string" && /region is missing/i.test(message)) return "set AWS_REGION (or a region in your AWS profile) to the stack's region";
    if (code === "ECONNREFUSED" || code === "ENOTFOUND") {
      return endpointUrl
        ? `nothing answers at AWS_ENDPOINT_URL=${endpointUrl}; start the local stack, or unset AWS_ENDPOINT_URL to use real AWS`
        : "AWS could not be reached; check the network and AWS_REGION";
    }
  }
  return undefined;
}
