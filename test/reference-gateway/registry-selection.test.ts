import { parseServeArgs } from "../../reference-gateway/cli";
import { UsageError } from "../../reference-gateway/errors";

/** `serve` picks its registry: a state dir's SQLite file, or a fleet's DynamoDB table (flag or environment). */
describe("serve: which registry", () => {
  const noEnv = {};

  it("uses the state dir's SQLite registry with --state-dir, whatever OPENCLAW_FRONT_REGISTRY_TABLE says", () => {
    const settings = parseServeArgs(["--environment", "dev", "--state-dir", "/var/lib/front"], { OPENCLAW_FRONT_REGISTRY_TABLE: "t-from-env" });

    expect(settings.gateway.stateDir).toBe("/var/lib/front");
    expect(settings.gateway.registryTable).toBeUndefined();
  });

  it("uses the table named by --registry-table, with the default cache bound", () => {
    const settings = parseServeArgs(["--environment", "prod", "--registry-table", "openclaw-front-prod-registry"], noEnv);

    expect(settings.gateway.stateDir).toBeUndefined();
    expect(settings.gateway.registryTable).toEqual({ tableName: "openclaw-front-prod-registry", recordCacheMs: 2_000 });
  });

  it("takes the table from OPENCLAW_FRONT_REGISTRY_TABLE when neither option is given, with the tuning options", () => {
    const settings = parseServeArgs(["--environment", "prod", "--registry-cache-ms", "500", "--registry-flush-ms", "250"], {
      OPENCLAW_FRONT_REGISTRY_TABLE: "openclaw-front-prod-registry",
    });

    expect(settings.gateway.registryTable).toEqual({ tableName: "openclaw-front-prod-registry", recordCacheMs: 500, flushIntervalMs: 250 });
  });

  it.each([
    [["--state-dir", "/x", "--registry-table", "t-1"], "takes --state-dir or --registry-table, not both"],
    [[], "needs --state-dir (or --registry-table"],
    [["--state-dir", "/x", "--registry-cache-ms", "100"], "--registry-cache-ms needs --registry-table"],
    [["--registry-table", "t-1", "--registry-cache-ms", "60001"], "--registry-cache-ms 60001 must be a whole number from 0 to 60000"],
    [["--registry-table", "no spaces allowed"], "is not a DynamoDB table name"],
  ])("refuses %j", (args, message) => {
    expect(() => parseServeArgs(["--environment", "dev", ...args], noEnv)).toThrow(UsageError);
    expect(() => parseServeArgs(["--environment", "dev", ...args], noEnv)).toThrow(message);
  });
});
