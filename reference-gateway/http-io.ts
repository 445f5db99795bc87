import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
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

/**
 * An answer written straight to a socket, for a WebSocket upgrade the front refuses (node:http hands over the
 * raw socket then). `rawBody` is sent as is; otherwise `body` as JSON. The connection is closed after it.
 */
export function writeRawReply(socket: Duplex, reply: Reply & { readonly rawBody?: Buffer }): void {
  const body = reply.rawBody ?? Buffer.from(JSON.stringify(reply.body));
  const headers: Record<string, string | number> = {
    ...(reply.rawBody === undefined && { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }),
    ...reply.headers,
    "content-length": body.length,
    connection: "close",
  };
  const head = [`HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ""}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), body]));
  else socket.destroy();
}

const MAX_BODY_BYTES = 64 * 1024;

/** The request body parsed as JSON; undefined when empty. Throws a 400 naming the fix. */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  return parseJson(await readBody(req, maxBytes));
}

/** The raw request body, at most `maxBytes`; a larger one is a 400, as the contract has always said. */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parseJson(raw: Buffer): unknown {
  const text = raw.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, ApiErrorCode.InvalidRequest, "body: not valid JSON; send a JSON object with Content-Type: application/json");
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(400, ApiErrorCode.InvalidRequest, `body: larger than ${maxBytes} bytes; send a smaller JSON object`);
}

/**
 * The request target as a URL. Only origin-form targets ("/path?query") are served: an absolute or
 * authority-form target, or one starting with "//" (which a URL parser reads as another host), is a 400.
 */
export function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? "/";
  if (!target.startsWith("/") || target.startsWith("//")) {
    throw new ApiError(400, ApiErrorCode.InvalidRequest, `request target ${JSON.stringify(target.slice(0, 100))} is not a path; send /path?query`);
  }
  try {
    return new URL(target, "http://gateway.invalid");
  } catch {
    throw new ApiError(400, ApiErrorCode.InvalidRequest, "request target is not a valid path");
  }
}
