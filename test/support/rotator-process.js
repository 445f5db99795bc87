// Runs the bundled rotator Lambda (dist/lambda/rotator/index.js) once, in this process, the way the Lambda runtime
// would: `node rotator-process.js '<event json>'`. Test-only knobs come from the environment:
//   CLOCK_OFFSET_MS   the shared test clock's offset (the reference gateway is moved the same way)
//   CRASH_AT          a step boundary at which the process kills itself with SIGKILL: no finally, no lease release
// The result is printed on the last line as "RESULT <json>"; Powertools' JSON logs and EMF go to stdout before it.
const path = require("node:path");
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
handler(JSON.parse(process.argv[2] || "{}"), { getRemainingTimeInMillis: () => 300000 }).then(
  (result) => process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`),
  (error) => {
    process.stdout.write(`\nERROR ${error && error.message}\n`);
    process.exitCode = 1;
  },
);
