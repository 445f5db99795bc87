// The EventBridge target of restart-rule.yaml: on "OpenClaw Token Rotation Promoted", restarts the consumers of the
// promoted token that read it only when they start. ECS: a new deployment (tasks start with the new AWSCURRENT).
// Lambda: a configuration change (new execution environments run the init code, which reads the secret again).
// The event carries token names and IDs, never a value; nor does this function read or log one.
import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { GetFunctionConfigurationCommand, LambdaClient, UpdateFunctionConfigurationCommand } from "@aws-sdk/client-lambda";

const ecs = new ECSClient({});
const lambda = new LambdaClient({});
const targets = JSON.parse(process.env.RESTART_TARGETS ?? "{}");

export async function handler(event) {
  // The rotator's event detail names the token as declared (`token`), never its value.
  const tokenName = event.detail?.token;
  const consumers = targets[tokenName];
  if (!consumers) return { tokenName, restarted: [] };
  const restarted = [];
  for (const service of consumers.ecsServices ?? []) {
    const [cluster, name] = service.split("/");
    await ecs.send(new UpdateServiceCommand({ cluster, service: name, forceNewDeployment: true }));
    restarted.push(`ecs:${service}`);
  }
  for (const functionName of consumers.lambdaFunctions ?? []) {
    const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const variables = { ...(current.Environment?.Variables ?? {}), OPENCLAW_ROTATED_AT: event.time };
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, Environment: { Variables: variables } }));
    restarted.push(`lambda:${functionName}`);
  }
  console.log(JSON.stringify({ message: "consumers restarted", tokenName, restarted }));
  return { tokenName, restarted };
}
