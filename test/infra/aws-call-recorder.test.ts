/**
 * The recorder the IAM matrix relies on: that it reads each call as IAM would (action, resource ARN, tags,
 * DynamoDB's fine-grained keys), answers a denied call as AWS does, and fails loudly on a call it cannot read.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateSecretCommand, SecretsManagerClient, TagResourceCommand } from "@aws-sdk/client-secrets-manager";
import type { PolicyDocument } from "../../infra/aws/rotator-policy";
import { AwsCallRecorder, startAwsCallRecorder } from "../support/aws-call-recorder";
import { decide } from "../support/iam-evaluation";
import { MotoServer, startMoto } from "../support/moto";

jest.setTimeout(60_000);

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const TABLE = "ledger-test";
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`;

/** Like a ledger's rotator statement: it may write its own attributes of an item, never the declaration's. */
const writer: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "Read", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: [TABLE_ARN, `${TABLE_ARN}/index/*`] },
    {
      Sid: "WriteStateOnly",
      Effect: "Allow",
      Action: ["dynamodb:UpdateItem"],
      Resource: [TABLE_ARN],
      Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": ["pk", "state", "lease", "version"] } },
    },
  ],
};

describe("the AWS call recorder", () => {
  let moto: MotoServer;
  let recorder: AwsCallRecorder;
  const client = <T>(make: new (config: object) => T, principal: string): T =>
    new make({ endpoint: recorder.url, region: REGION, credentials: { accessKeyId: principal, secretAccessKey: "x" } });

  beforeAll(async () => {
    moto = await startMoto();
    const direct = new DynamoDBClient({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: "setup", secretAccessKey: "x" } });
    await direct.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "bucket", AttributeType: "S" },
        ],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        GlobalSecondaryIndexes: [{ IndexName: "due-index", KeySchema: [{ AttributeName: "bucket", KeyType: "HASH" }], Projection: { ProjectionType: "KEYS_ONLY" } }],
      }),
    );
    direct.destroy();
    recorder = await startAwsCallRecorder({
      motoEndpoint: moto.endpoint,
      region: REGION,
      account: ACCOUNT,
      // "setup" is unrestricted; "writer" gets the policy above.
      authorize: async (call) => (call.principal === "setup" || (await decide({ writer }, call, ACCOUNT)) === "Allowed" ? undefined : `denied ${call.action}`),
    });
  });

  afterAll(async () => {
    await recorder?.stop();
    await moto?.stop();
  });

  it("reads a DynamoDB item write, update and index query with their fine-grained keys, and authorizes them", async () => {
    const setup = client(DynamoDBClient, "setup");
    await setup.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: "openclaw/dev/ci-runner" }, scopes: { S: "run:jobs" }, bucket: { S: "b0" } } }));
    const writerClient = client(DynamoDBClient, "writer");
    await writerClient.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: "openclaw/dev/ci-runner" } },
        UpdateExpression: "SET #s = :s, version = if_not_exists(version, :zero) + :one REMOVE lease",
        ConditionExpression: "attribute_not_exists(version) OR version = :v",
        ExpressionAttributeNames: { "#s": "state" },
        ExpressionAttributeValues: { ":s": { S: "minting" }, ":zero": { N: "0" }, ":one": { N: "1" }, ":v": { N: "0" } },
      }),
    );
    await writerClient.send(new QueryCommand({ TableName: TABLE, IndexName: "due-index", KeyConditionExpression: "bucket = :b", ExpressionAttributeValues: { ":b": { S: "b0" } } }));
    // Writing a declaration attribute is refused, as AWS would refuse it.
    await expect(
      writerClient.send(new UpdateItemCommand({ TableName: TABLE, Key: { pk: { S: "openclaw/dev/ci-runner" } }, UpdateExpression: "SET scopes = :x", ExpressionAttributeValues: { ":x": { S: "admin:*" } } })),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });

    expect(recorder.calls.filter((c) => c.principal === "writer")).toEqual([
      {
        principal: "writer",
        action: "dynamodb:UpdateItem",
        resource: TABLE_ARN,
        resourceTags: {},
        requestTags: {},
        conditionKeys: { "dynamodb:Attributes": ["lease", "pk", "state", "version"], "dynamodb:LeadingKeys": ["openclaw/dev/ci-runner"] },
      },
      { principal: "writer", action: "dynamodb:Query", resource: `${TABLE_ARN}/index/due-index`, resourceTags: {}, requestTags: {}, conditionKeys: {} },
      {
        principal: "writer",
        action: "dynamodb:UpdateItem",
        resource: TABLE_ARN,
        resourceTags: {},
        requestTags: {},
        conditionKeys: { "dynamodb:Attributes": ["pk", "scopes"], "dynamodb:LeadingKeys": ["openclaw/dev/ci-runner"] },
        denied: "denied dynamodb:UpdateItem",
      },
    ]);
    setup.destroy();
    writerClient.destroy();
  });

  it("reads a secret's real ARN, its current tags and the request's tags", async () => {
    const secrets = client(SecretsManagerClient, "setup");
    const created = await secrets.send(new CreateSecretCommand({ Name: "openclaw/dev/app", SecretString: "{}", Tags: [{ Key: "openclaw:environment", Value: "dev" }] }));
    await secrets.send(new TagResourceCommand({ SecretId: "openclaw/dev/app", Tags: [{ Key: "openclaw:phase", Value: "idle" }] }));
    secrets.destroy();

    const [create, tag] = recorder.calls.filter((c) => c.action.startsWith("secretsmanager:"));
    expect(create).toEqual({
      principal: "setup",
      action: "secretsmanager:CreateSecret",
      // Before it exists, a secret is judged on the ARN it will have: its name and a 6-character suffix.
      resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw/dev/app-AbCdEf`,
      resourceTags: {},
      requestTags: { "openclaw:environment": "dev" },
      tagKeys: ["openclaw:environment"],
    });
    expect(tag).toEqual({
      principal: "setup",
      action: "secretsmanager:TagResource",
      resource: created.ARN,
      resourceTags: { "openclaw:environment": "dev" },
      requestTags: { "openclaw:phase": "idle" },
      tagKeys: ["openclaw:phase"],
    });
  });

  it("refuses a call it cannot read as an IAM action, and says so when stopped", async () => {
    const other = await startAwsCallRecorder({ motoEndpoint: moto.endpoint, region: REGION, account: ACCOUNT });
    const res = await fetch(other.url, {
      method: "POST",
      headers: { authorization: `AWS4-HMAC-SHA256 Credential=someone/20260101/${REGION}/sts/aws4_request, SignedHeaders=host, Signature=x`, "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    expect(res.status).toBe(500);
    await expect(other.stop()).rejects.toThrow(/sts request POST \/ has no X-Amz-Target/);
  });
});
