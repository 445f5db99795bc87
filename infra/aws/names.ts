import { Environment } from "../../src/domain/environments";
import { ledgerTableName } from "../../src/store/metadata";

/**
 * Physical names of one environment's rotator resources. Every name carries the environment, so a dev and a prod
 * deployment never collide in one account, and an IAM policy written for one can never name the other's.
 * Regional resources (function, table, queue, topic, schedule, log group, secret) are unique per environment and
 * region; IAM roles are global to the account, so theirs also carry the region.
 */
export interface RotatorNames {
  readonly functionName: string;
  /** The log group Lambda writes to by convention; created by the stack so that it has a retention. */
  readonly logGroupName: string;
  /** The ledger (src/ledger/): declarations and rotation state, one item per token. */
  readonly ledgerTableName: string;
  /** The gateway admin token, outside the tokens' namespace (`openclaw/<env>/`) so that the rotator cannot write it. */
  readonly adminSecretName: string;
  readonly deadLetterQueueName: string;
  /** Where Lambda records scheduled runs that failed or were too old to run (the async on-failure destination). */
  readonly failedRunsQueueName: string;
  readonly dashboardName: string;
  readonly alarmTopicName: string;
  readonly scheduleName: string;
  /** EventBridge Scheduler's default group: schedules in it need no group resource. */
  readonly scheduleGroupName: string;
  readonly lambdaRoleName: (region: string) => string;
  readonly schedulerRoleName: (region: string) => string;
  readonly alarmName: (what: string) => string;
  /** Managed policies for the people and pipelines around the rotator (global like roles, so with the region). */
  readonly accessPolicyName: (who: "operator" | "viewer" | "token-deployer", region: string) => string;
}

export function rotatorNames(environment: Environment): RotatorNames {
  const base = `openclaw-rotator-${environment}`;
  return {
    functionName: base,
    logGroupName: `/aws/lambda/${base}`,
    ledgerTableName: ledgerTableName(environment),
    adminSecretName: adminSecretName(environment),
    deadLetterQueueName: `${base}-dlq`,
    failedRunsQueueName: `${base}-failed-runs`,
    dashboardName: base,
    alarmTopicName: `${base}-alarms`,
    scheduleName: base,
    scheduleGroupName: "default",
    // IAM role names are at most 64 characters: "openclaw-rotator-stage-scheduler-ap-southeast-2" is 47.
    lambdaRoleName: (region) => `${base}-${region}`,
    schedulerRoleName: (region) => `${base}-scheduler-${region}`,
    alarmName: (what) => `${base}-${what}`,
    accessPolicyName: (who, region) => `openclaw-tokens-${environment}-${who}-${region}`,
  };
}

/** Where the gateway's admin token lives: read by the rotator, written only by the stack. */
export function adminSecretName(environment: Environment): string {
  return `openclaw-admin/${environment}/gateway`;
}
