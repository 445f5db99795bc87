import { requestLogUnavailable, type ApiError } from "./errors";
import type { RequestLogStore } from "./registry-store";

/**
 * The refusal for a request this front would have to record while its request log is in outage (entries unwritten
 * longer than the bound, dynamodb/request-log-store.ts), or undefined while it records. A front that cannot record
 * fails closed: serving a consumer there would hide it from the rotator's drain, which reads the log from the table
 * (through any front); refused, the consumer retries, and the load balancer sends the retry to a front that records.
 */
export function logOutageRefusal(requestLog: RequestLogStore): ApiError | undefined {
  const outage = requestLog.outage();
  if (!outage) return undefined;
  return requestLogUnavailable(
    `this front has held requests it could not write to its registry for ${Math.round(outage.unwrittenForMs / 1000)} s ` +
      `(more than ${Math.round(outage.boundMs / 1000)} s), so it serves no token until they are written`,
    outage.retryAfterSeconds,
  );
}
