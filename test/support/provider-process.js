// Runs the GatewayToken provider runtime's bundle (dist/provider-runtime.js) with its default dependencies, as
// Pulumi's provider shell does: its AWS clients take their endpoint, region and credentials from the environment.
// `node provider-process.js '<ops json>'`, ops: [{op: "create", inputs}, {op: "delete", name}]. Prints
// "RESULT <json>" (the outputs of each create) on its last line.
const path = require("node:path");
const { createProviderRuntime } = require(path.resolve(__dirname, "../../dist/provider-runtime.js"));

async function main() {
  const runtime = createProviderRuntime();
  const outputs = {};
  for (const step of JSON.parse(process.argv[2] || "[]")) {
    if (step.op === "create") {
      const checked = await runtime.check({}, step.inputs);
      if (checked.failures && checked.failures.length) throw new Error(JSON.stringify(checked.failures));
      outputs[step.inputs.name] = (await runtime.create(checked.inputs)).outs;
    } else if (step.op === "delete") {
      const outs = outputs[step.name];
      await runtime.delete(outs.secretName, outs);
    } else {
      throw new Error(`unknown op ${step.op}`);
    }
  }
  return Object.keys(outputs);
}

main().then(
  (result) => process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`),
  (error) => {
    process.stdout.write(`\nERROR ${error && error.message}\n`);
    process.exitCode = 1;
  },
);
