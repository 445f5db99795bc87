/**
 * An SQS queue on moto that receives the rotator's EventBridge events through a rule on the default bus: what a
 * consumer of the events would see. SQS is called with its JSON protocol over fetch (no SQS client in the project);
 * moto does not check signatures, the region comes from the credential scope.
 */
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { EVENT_SOURCE } from "../src/rotation/observability";
import { MotoServer } from "./moto";

/** One delivered event, as EventBridge wraps it. */
export interface DeliveredEvent {
  readonly source: string;
  readonly "detail-type": string;
  readonly detail: Record<string, unknown>;
  /** The message body exactly as received, for "no token value anywhere" checks. */
  readonly raw: string;
}

export class EventQueue {
  private constructor(
    private readonly moto: MotoServer,
    readonly queueUrl: string,
  ) {}

  /** Creates the queue and a rule on `bus` (created unless it is the default one) matching every rotation event. */
  static async create(moto: MotoServer, name = "rotation-events", bus = "default"): Promise<EventQueue> {
    const created = await sqs<{ QueueUrl: string }>(moto, "CreateQueue", { QueueName: name });
    const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>(moto, "GetQueueAttributes", { QueueUrl: created.QueueUrl, AttributeNames: ["QueueArn"] });
    const events = new EventBridgeClient({ endpoint: moto.endpoint, region: moto.env.AWS_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    if (bus !== "default") await events.send(new CreateEventBusCommand({ Name: bus }));
    await events.send(new PutRuleCommand({ Name: `${name}-rule`, EventBusName: bus, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }));
    await events.send(new PutTargetsCommand({ Rule: `${name}-rule`, EventBusName: bus, Targets: [{ Id: "queue", Arn: Attributes.QueueArn }] }));
    events.destroy();
    return new EventQueue(moto, created.QueueUrl);
  }

  /** Every event delivered so far (received and deleted). */
  async drain(): Promise<DeliveredEvent[]> {
    const delivered: DeliveredEvent[] = [];
    for (;;) {
      const { Messages = [] } = await sqs<{ Messages?: Array<{ Body: string; ReceiptHandle: string }> }>(this.moto, "ReceiveMessage", { QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 });
      if (!Messages.length) return delivered;
      for (const m of Messages) {
        delivered.push({ ...(JSON.parse(m.Body) as Omit<DeliveredEvent, "raw">), raw: m.Body });
        await sqs(this.moto, "DeleteMessage", { QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle });
      }
    }
  }
}

async function sqs<T>(moto: MotoServer, action: string, body: object): Promise<T> {
  const res = await fetch(moto.endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": `AmazonSQS.${action}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${moto.env.AWS_REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`SQS ${action}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}
