/**
 * AWS IAM's decision on a call, by a real policy evaluator (@cloud-copilot/iam-simulate: identity policies with
 * every condition operator, explicit denies, resource-type checks against the service's authorization reference).
 * A call the evaluator cannot judge (an unknown action, a resource of the wrong type, a bad policy) is an error,
 * never a silent denial.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../infra/aws/rotator-policy";
import type { AwsCall } from "./aws-call-recorder";

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** The request context IAM builds from a call: resource tags, request tags, tag keys. */
export function contextOf(call: AwsCall): Record<string, string | string[]> {
  return {
    ...Object.fromEntries(Object.entries(call.resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
    ...Object.fromEntries(Object.entries(call.requestTags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    ...(call.tagKeys ? { "aws:TagKeys": [...call.tagKeys] } : {}),
    ...Object.fromEntries(Object.entries(call.conditionKeys ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : [...v]])),
  };
}

/** The decision of the principal's identity policies on one call, in `account` (same-account: no resource policy needed). */
export async function decide(policies: Readonly<Record<string, PolicyDocument>>, call: AwsCall, account: string): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: Object.entries(policies).map(([name, policy]) => ({ name, policy: policy as unknown as Record<string, unknown> })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:iam::${account}:role/${call.principal}`,
        action: call.action,
        resource: { resource: call.resource, accountId: account },
        contextVariables: contextOf(call),
      },
    } as Parameters<typeof runSimulation>[0],
    {},
  );
  if (result.resultType === "error") throw new Error(`IAM cannot judge ${call.action} on ${call.resource}: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== "single") throw new Error(`IAM judged ${call.action} on ${call.resource} as ${result.resultType}; expected one resource`);
  return result.overallResult as Decision;
}
