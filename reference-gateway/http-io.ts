import type { IncomingMessage, ServerResponse } from "node:http";
import type { ValidationError } from "../src/domain/errors";
import { ApiError, ApiErrorCode } from "./errors";

/** What a handler answers: the server writes it (and logs it) in one place. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

/** The contract's error body: `{"error":{"code","message",...details}}`. */
export function errorReply(error: ApiError): Reply {
  return {
    status: error.status,
    body: { error: { code: error.code, message: error.message, ...error.details } },
    headers: error.headers,
  };
}

/** A 400 that names every field at fault and its fix, in the message and as `problems`. */
export function invalidRequest(error: ValidationError): ApiError {
  const message = error.problems.map((p) => `${p.field}: ${p.message}`).join("; ");
  return new ApiError(400, ApiErrorCode.InvalidRequest, message, { details: { problems: error.problems } });
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...reply.headers,
  });
  res.end(body);
}

const MAX_BODY_BYTES = 64 * 1024;

/** The request body parsed as JSON; undefined when empty. Throws a 400 naming the fix. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(400, ApiErrorCode.InvalidRequest, `body: larger than ${MAX_BODY_BYTES} bytes; send a smaller JSON object`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, ApiErrorCode.InvalidRequest, "body: not valid JSON; send a JSON object with Content-Type: application/json");
  }
}
