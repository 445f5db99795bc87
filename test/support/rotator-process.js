// Runs the bundled rotator Lambda (dist/lambda/rotator/index.js) in this process, the way the Lambda runtime
// would: `node rotator-process.js '<event json>'`. Test-only knobs come from the environment:
//   CLOCK_OFFSET_MS   the shared test clock's offset (the reference gateway is moved the same way)
//   CRASH_AT          a step boundary at which the process kills itself with SIGKILL: no finally, no lease release
//   INVOCATIONS       how many times to invoke the handler in this process (warm invocations after the first)
// Each invocation gets a Lambda context like the runtime's (its own request ID). The result of the last one is
// printed on the last line as "RESULT <json>"; Powertools' JSON logs and EMF go to stdout before it.
const path = require("node:path");
const { randomUUID } = require("node:crypto");
const { createHandler } = require(path.resolve(__dirname, "../../dist/lambda/rotator/index.js"));

const offset = Number(process.env.CLOCK_OFFSET_MS || 0);
const crashAt = process.env.CRASH_AT;
const handler = createHandler({
  clock: { now: () => new Date(Date.now() + offset) },
  observer: {
    checkpoint(boundary) {
      if (boundary === crashAt) process.kill(process.pid, "SIGKILL");
    },
  },
  http: { timeoutMs: Number(process.env.GATEWAY_TIMEOUT_MS || 10000), retry: { baseDelayMs: 20, maxDelayMs: 200 } },
});

const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME || "openclaw-rotator-dev";
const context = () => ({
  awsRequestId: randomUUID(),
  functionName,
  functionVersion: "$LATEST",
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
  memoryLimitInMB: "256",
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: "local",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 300000,
});

async function main() {
  let result;
  for (let i = 0; i < Number(process.env.INVOCATIONS || 1); i++) result = await handler(JSON.parse(process.argv[2] || "{}"), context());
  return result;
}

main().then(
  (result) => process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`),
  (error) => {
    process.stdout.write(`\nERROR ${error && error.message}\n`);
    process.exitCode = 1;
  },
);
