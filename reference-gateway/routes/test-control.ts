import { ValidationError } from "../../src/domain/errors";
import { parseFaultSpec } from "../faults";
import { ok, readJsonBody } from "../http-io";
import type { Route } from "../router";
import type { TestControls } from "./context";

/**
 * `/_test/*`: mounted only with `serve --test-control`. These routes skip latency and faults, so a test can
 * always switch injected trouble off again.
 */
export function testControlRoutes(controls: TestControls): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_test/clock",
      requires: null,
      handle: async ({ req }) => {
        const offsetMs = numberField(await readJsonBody(req), "offsetMs", "milliseconds to add to the real time; may be negative");
        controls.clock.setOffset(offsetMs);
        return ok({ offsetMs, now: controls.clock.now().toISOString() });
      },
    },
    {
      method: "POST",
      pattern: "/_test/faults",
      requires: null,
      handle: async ({ req }) => {
        controls.faults.set(parseFaultSpec(await readJsonBody(req)));
        return ok(controls.faults.spec);
      },
    },
    {
      method: "GET",
      pattern: "/_test/faults",
      requires: null,
      handle: async () => ok({ ...controls.faults.spec, injected: controls.faults.injected }),
    },
    {
      method: "POST",
      pattern: "/_test/latency",
      requires: null,
      handle: async ({ req }) => {
        const ms = numberField(await readJsonBody(req), "ms", "milliseconds added before every request, 0 or more");
        if (ms < 0) throw new ValidationError("latency", [{ field: "ms", message: "must be 0 or more" }]);
        controls.latencyMs = ms;
        return ok({ ms });
      },
    },
  ];
}

function numberField(body: unknown, field: string, meaning: string): number {
  const value = typeof body === "object" && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ValidationError("test control request", [{ field, message: `required; a number: ${meaning}` }]);
  }
  return value;
}
