/** The AWS part of the deployment: the rotator's component, its IAM documents, names and settings. */
export { DEFAULT_BUNDLE_DIR, METRICS_NAMESPACE, RotatorBundleMissingError, RotatorDeployment, RotatorMetric, SCHEDULED_EVENT } from "./rotator-deployment";
export type { RotatorDeploymentArgs } from "./rotator-deployment";
export { adminSecretName, rotatorNames } from "./names";
export type { RotatorNames } from "./names";
export { rotatorPolicyDocument, schedulerAssumeRolePolicy, schedulerPolicyDocument, lambdaAssumeRolePolicy, tokenSecretsArnPattern } from "./rotator-policy";
export type { PolicyDocument, PolicyStatement, RotatorPolicyContext } from "./rotator-policy";
export { parseRotatorSettings, ROTATOR_DEFAULTS } from "./rotator-settings";
export type { RotatorSettings } from "./rotator-settings";
export { DEREGISTRATION_DELAY_SECONDS, FRONT_HEALTH_PATH, FRONT_PORT, frontContainerDefinitions, TLS_POLICY, TokenFrontDeployment } from "./token-front";
export type { TokenFrontDeploymentArgs } from "./token-front";
export { FRONT_REGISTRY_ACTIONS, frontExecutionPolicyDocument, frontNames, frontRegistryTableName, frontTaskPolicyDocument, openclawConfigForFleet } from "./token-front-policy";
export type { FrontNames, OpenClawFleetConfig } from "./token-front-policy";
export { FRONT_DEFAULTS, parseFrontStackSetting } from "./token-front-settings";
export type { FrontSettings, FrontStackSetting } from "./token-front-settings";
