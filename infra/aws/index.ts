/** The AWS part of the deployment: the rotator's component, its IAM documents, names and settings. */
export { DEFAULT_BUNDLE_DIR, METRICS_NAMESPACE, RotatorBundleMissingError, RotatorDeployment, RotatorMetric, SCHEDULED_EVENT } from "./rotator-deployment";
export type { RotatorDeploymentArgs } from "./rotator-deployment";
export { adminSecretName, rotatorNames } from "./names";
export type { RotatorNames } from "./names";
export { rotatorPolicyDocument, schedulerAssumeRolePolicy, schedulerPolicyDocument, lambdaAssumeRolePolicy, tokenSecretsArnPattern } from "./rotator-policy";
export type { PolicyDocument, PolicyStatement, RotatorPolicyContext } from "./rotator-policy";
export { parseRotatorSettings, ROTATOR_DEFAULTS } from "./rotator-settings";
export type { RotatorSettings } from "./rotator-settings";
