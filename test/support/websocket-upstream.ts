import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** RFC 6455's fixed GUID for Sec-WebSocket-Accept. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OPCODE_CLOSE = 0x8;

/** One WebSocket connection the upstream accepted. */
export interface UpstreamConnection {
  readonly headers: IncomingHttpHeaders;
  /** Client frames received (data and control alike). */
  frames: number;
  closed: boolean;
  /** Sends a text frame to the client (server frames are unmasked). */
  send(text: string): void;
}

/**
 * A minimal WebSocket server on 127.0.0.1 standing in for OpenClaw behind the front: it accepts every upgrade,
 * counts the client's frames (unfragmented, masked, as browsers and Node's WebSocket send them), answers a close
 * with a close, and can push text frames. Enough to see what the front does with a tunnel, without OpenClaw.
 */
export class WebSocketUpstream {
  readonly connections: UpstreamConnection[] = [];
  url = "";
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor() {
    this.#server = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    this.#server.on("upgrade", (req, socket: Socket) => {
      const key = String(req.headers["sec-websocket-key"] ?? "");
      const accept = createHash("sha1").update(key + WEBSOCKET_GUID).digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      this.#sockets.add(socket);
      const connection: UpstreamConnection = {
        headers: req.headers,
        frames: 0,
        closed: false,
        send: (text) => socket.write(frame(0x1, Buffer.from(text))),
      };
      this.connections.push(connection);
      let pending = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        for (let parsed = parseFrame(pending); parsed; parsed = parseFrame(pending)) {
          pending = pending.subarray(parsed.length);
          connection.frames++;
          if (parsed.opcode === OPCODE_CLOSE) socket.end(frame(OPCODE_CLOSE, Buffer.alloc(0)));
        }
      });
      socket.on("error", () => socket.destroy());
      socket.once("close", () => {
        connection.closed = true;
        this.#sockets.delete(socket);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A whole client frame at the start of `data`: its opcode and byte length; undefined until all of it arrived. */
function parseFrame(data: Buffer): { opcode: number; length: number } | undefined {
  if (data.length < 2) return undefined;
  const opcode = data[0] & 0x0f;
  const masked = (data[1] & 0x80) !== 0;
  let payload = data[1] & 0x7f;
  let offset = 2;
  if (payload === 126) {
    if (data.length < 4) return undefined;
    payload = data.readUInt16BE(2);
    offset = 4;
  } else if (payload === 127) {
    if (data.length < 10) return undefined;
    payload = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  const length = offset + (masked ? 4 : 0) + payload;
  return data.length >= length ? { opcode, length } : undefined;
}

/** A final, unmasked server frame (payloads under 126 bytes: what the tests send). */
function frame(opcode: number, payload: Buffer): Buffer {
  if (payload.length >= 126) throw new Error("test frames are under 126 bytes");
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

/** A client's WebSocket through a front, with its token and other request headers (Node's WebSocket takes headers). */
export async function openWebSocket(frontUrl: string, token: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const init = { headers: { authorization: `Bearer ${token}`, ...headers } };
  const ws = new WebSocket(`${frontUrl.replace(/^http/, "ws")}/`, init as unknown as string[]);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("the WebSocket did not open"));
  });
  return ws;
}
