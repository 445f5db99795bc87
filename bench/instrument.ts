/**
 * Counting and timing of every call the engine makes: Secrets Manager and DynamoDB at the SDK client (a middleware
 * in the initialize step, so one record per command whatever the SDK retries), the gateway and the token store at
 * their interfaces (a Proxy). Checkpoints of the engine's observer go into the same log, so calls can be attributed
 * to the rotation phase they belong to.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { nowMs } from "./stats";

export const Service = {
  /** Secrets Manager, counted at the SDK client: what AWS bills and throttles. */
  SecretsManager: "secrets-manager",
  /** The gateway, counted at the GatewayBackend interface. */
  Gateway: "gateway",
  /** The ledger table (every token's declaration, rotation state and lease), counted at the SDK client. */
  DynamoDb: "dynamodb",
  /** TokenStore methods the engine calls (one may be several Secrets Manager calls): for attribution only. */
  Store: "store",
} as const;
export type Service = (typeof Service)[keyof typeof Service];

/** The services whose calls leave the process. */
export const REMOTE_SERVICES: readonly Service[] = [Service.SecretsManager, Service.Gateway, Service.DynamoDb];

export interface CallRecord {
  readonly service: Service;
  readonly op: string;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
}

export interface Mark {
  readonly label: string;
  readonly token: string | undefined;
  readonly at: number;
}

export class CallLog {
  readonly calls: CallRecord[] = [];
  readonly marks: Mark[] = [];

  record(service: Service, op: string, start: number, end: number, ok = true): void {
    this.calls.push({ service, op, start, end, ok });
  }

  mark(label: string, token?: string): void {
    this.marks.push({ label, token, at: nowMs() });
  }

  clear(): void {
    this.calls.length = 0;
    this.marks.length = 0;
  }

  /** Calls of `service`, optionally only those that started in [from, to). */
  of(service: Service, from = -Infinity, to = Infinity): CallRecord[] {
    return this.calls.filter((c) => c.service === service && c.start >= from && c.start < to);
  }

  /** Calls per operation, e.g. { ListSecrets: 10 }. */
  byOp(service: Service, from = -Infinity, to = Infinity): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.of(service, from, to)) counts[c.op] = (counts[c.op] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Sum of the durations of the remote calls: what they would take one after another. */
  serialMs(from = -Infinity, to = Infinity): number {
    return this.calls.filter((c) => REMOTE_SERVICES.includes(c.service) && c.start >= from && c.start < to).reduce((s, c) => s + (c.end - c.start), 0);
  }

  failures(): CallRecord[] {
    return this.calls.filter((c) => !c.ok && c.service !== Service.Store);
  }
}

/** Records every command `client` sends in `log` under `service`. Returns the client. */
export function instrumentClient<C extends SecretsManagerClient | DynamoDBClient>(client: C, log: CallLog, service: Service): C {
  const stack = client.middlewareStack as unknown as SecretsManagerClient["middlewareStack"];
  stack.add(
    (next, context) => async (args) => {
      const start = nowMs();
      let ok = false;
      try {
        const out = await next(args);
        ok = true;
        return out;
      } finally {
        log.record(service, (context.commandName ?? "?").replace(/Command$/, ""), start, nowMs(), ok);
      }
    },
    { step: "initialize", name: "benchCallLog", priority: "high" },
  );
  return client;
}

/** A proxy of `target` that records each method call (and, for promises, how long it took) under `service`. */
export function instrumentObject<T extends object>(target: T, log: CallLog, service: Service): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const start = nowMs();
        const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
        if (result instanceof Promise) {
          return result.then(
            (out) => {
              log.record(service, String(key), start, nowMs(), true);
              return out;
            },
            (error) => {
              log.record(service, String(key), start, nowMs(), false);
              throw error;
            },
          );
        }
        log.record(service, String(key), start, start, true);
        return result;
      };
    },
  });
}
