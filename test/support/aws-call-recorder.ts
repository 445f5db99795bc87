/**
 * Every AWS call a process makes, recorded (and optionally authorized) on its way to moto. A loopback HTTP proxy
 * in front of moto, rather than an SDK middleware: the rotator Lambda's bundle inlines its own copy of the SDK, so a
 * middleware could only reach it through a test hook in production code, while the proxy sees every client of every
 * process (the bundled Lambda, the CLI, the provider runtime), including clients added later, unchanged.
 *
 * A call is read the way IAM reads it: the service from SigV4's credential scope, the action from the JSON
 * protocol's X-Amz-Target (Secrets Manager, DynamoDB, ...), the resource ARN from the request's parameters (with a
 * secret's real ARN and its current tags, looked up in moto), the request tags and tag keys. The principal is the
 * access key ID the process signs with: each process gets its own (`envFor`).
 *
 * With `authorize`, a call that is not allowed is answered as AWS answers it (400 AccessDeniedException) and never
 * reaches moto, so the code under test meets the deployment's IAM policies as it would in AWS.
 */
import { createServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/** One authorization request, as IAM evaluates it: one action on one resource. */
export interface AwsCall {
  readonly principal: string;
  /** IAM action, e.g. "secretsmanager:GetSecretValue". */
  readonly action: string;
  /** The resource ARN IAM checks, or "*" for actions without resource-level permissions. */
  readonly resource: string;
  /** The resource's tags when the call was made (aws:ResourceTag/...). */
  readonly resourceTags: Readonly<Record<string, string>>;
  /** Tags the request sets (aws:RequestTag/...). */
  readonly requestTags: Readonly<Record<string, string>>;
  /** Tag keys the request names (aws:TagKeys), for TagResource/UntagResource/CreateSecret. */
  readonly tagKeys?: readonly string[];
  /** Service-specific condition keys of the request, e.g. dynamodb:Attributes and dynamodb:LeadingKeys. */
  readonly conditionKeys?: Readonly<Record<string, string | readonly string[]>>;
}

/** How the proxy decides on a call it is asked to authorize: undefined allows it, a string is the denial. */
export type Authorizer = (call: AwsCall) => Promise<string | undefined>;

export interface RecordedCall extends AwsCall {
  /** Undefined when allowed (or not authorized at all); the denial otherwise. */
  readonly denied?: string;
}

export interface AwsCallRecorder {
  readonly url: string;
  readonly calls: RecordedCall[];
  /** The AWS_* environment of a process whose calls are recorded under `principal`. */
  envFor(principal: string): Record<string, string>;
  stop(): Promise<void>;
}

export interface RecorderOptions {
  readonly motoEndpoint: string;
  readonly region: string;
  readonly account: string;
  readonly authorize?: Authorizer;
}

/** Thrown for a request the recorder cannot read as an IAM action: a call it would otherwise miss. */
export class UnreadableCallError extends Error {}

export async function startAwsCallRecorder(options: RecorderOptions): Promise<AwsCallRecorder> {
  const calls: RecordedCall[] = [];
  // The recorder's own lookups go straight to moto, unrecorded.
  const direct = { endpoint: options.motoEndpoint, region: options.region, credentials: { accessKeyId: "recorder", secretAccessKey: "recorder" } };
  const lookup = new SecretsManagerClient(direct);
  const tables = new DynamoDBClient(direct);
  const partitionKeys = new Map<string, Promise<string | undefined>>();
  const partitionKeyOf = (table: string) => {
    if (!partitionKeys.has(table)) {
      partitionKeys.set(
        table,
        tables.send(new DescribeTableCommand({ TableName: table })).then(
          (t) => t.Table?.KeySchema?.find((k) => k.KeyType === "HASH")?.AttributeName,
          () => undefined,
        ),
      );
    }
    return partitionKeys.get(table) as Promise<string | undefined>;
  };
  const problems: Error[] = [];

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      problems.push(error);
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ __type: "RecorderError", message: error.message }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const authorization = String(req.headers.authorization ?? "");
    const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
    if (!scope) throw new UnreadableCallError(`unsigned request ${req.method} ${req.url}`);
    const [, principal, region, service] = scope;
    const target = String(req.headers["x-amz-target"] ?? "");
    if (!target.includes(".")) throw new UnreadableCallError(`${service} request ${req.method} ${req.url} has no X-Amz-Target: add its protocol to the recorder`);
    const operation = target.slice(target.lastIndexOf(".") + 1);
    const input = body.length ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
    const requests = await authorizationRequests(service, operation, input, region);
    let denied: string | undefined;
    for (const r of requests) {
      const call: AwsCall = { principal, ...r };
      const denial = options.authorize ? await options.authorize(call) : undefined;
      calls.push(denial ? { ...call, denied: denial } : call);
      denied ??= denial;
    }
    if (denied) {
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "AccessDeniedException" });
      res.end(JSON.stringify({ __type: "AccessDeniedException", message: denied }));
      return;
    }
    await forward(req, body, res);
  }

  /** What IAM authorizes for one API call: usually one action on one resource; batch operations name several. */
  async function authorizationRequests(service: string, operation: string, input: Record<string, unknown>, region: string): Promise<Omit<AwsCall, "principal">[]> {
    const arn = (resource: string) => `arn:aws:${service}:${region}:${options.account}:${resource}`;
    const action = `${service}:${operation}`;
    const tagsOf = (list: unknown) => Object.fromEntries(((list as Array<{ Key: string; Value: string }>) ?? []).map((t) => [t.Key, t.Value]));
    switch (service) {
      case "secretsmanager": {
        if (operation === "ListSecrets" || operation === "GetRandomPassword" || operation === "BatchGetSecretValue") {
          return [{ action, resource: "*", resourceTags: {}, requestTags: {} }];
        }
        const id = String(input.SecretId ?? input.Name ?? "");
        if (!id) throw new UnreadableCallError(`${action} names no secret`);
        const found = await lookup.send(new DescribeSecretCommand({ SecretId: id })).catch(() => undefined);
        // A secret that does not exist yet (CreateSecret) is checked against the ARN it will have: name, dash, 6 characters.
        const resource = found?.ARN ?? (id.startsWith("arn:") ? id : arn(`secret:${id}-AbCdEf`));
        const resourceTags = found ? tagsOf(found.Tags) : {};
        const requestTags = tagsOf(input.Tags);
        const tagKeys = operation === "UntagResource" ? (input.TagKeys as string[]) : input.Tags ? Object.keys(requestTags) : undefined;
        return [{ action, resource, resourceTags, requestTags, ...(tagKeys ? { tagKeys } : {}) }];
      }
      case "dynamodb": {
        const table = (name: unknown, index?: unknown) => arn(`table/${String(name)}${index ? `/index/${String(index)}` : ""}`);
        const onTable = (a: string, name: unknown, index?: unknown, conditionKeys?: AwsCall["conditionKeys"]) => ({
          action: `dynamodb:${a}`,
          resource: table(name, index),
          resourceTags: {},
          requestTags: {},
          ...(conditionKeys ? { conditionKeys } : {}),
        });
        if (operation === "TransactWriteItems" || operation === "TransactGetItems") {
          const kinds: Record<string, string> = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem", Get: "GetItem" };
          return (input.TransactItems as Array<Record<string, { TableName: string }>>).flatMap((item) => Object.entries(item).map(([kind, op]) => onTable(kinds[kind], op.TableName)));
        }
        if (operation === "BatchGetItem" || operation === "BatchWriteItem") {
          return Object.keys(input.RequestItems as object).map((name) => onTable(operation, name));
        }
        if (operation === "ListTables") return [{ action, resource: "*", resourceTags: {}, requestTags: {} }];
        if (!input.TableName) throw new UnreadableCallError(`${action} names no table`);
        return [onTable(operation, input.TableName, input.IndexName, await dynamoDbConditionKeys(input, await partitionKeyOf(String(input.TableName))))];
      }
      case "events": {
        if (operation !== "PutEvents") throw new UnreadableCallError(`${action}: the recorder knows EventBridge's PutEvents only`);
        // One authorization per bus an entry names (a name or an ARN; none is the account's default bus).
        const buses = new Set(((input.Entries as Array<{ EventBusName?: string }>) ?? []).map((e) => e.EventBusName || "default"));
        return [...buses].map((bus) => ({ action, resource: bus.startsWith("arn:") ? bus : arn(`event-bus/${bus}`), resourceTags: {}, requestTags: {} }));
      }
      default:
        throw new UnreadableCallError(`${action}: the recorder does not know ${service}'s resources yet; add them here`);
    }
  }

  /**
   * DynamoDB's fine-grained access keys for a single-item or query request: dynamodb:Attributes (the top-level
   * attributes the request names: the key, the item written, the update expression's targets, the projection)
   * and dynamodb:LeadingKeys (the partition key's value), with #placeholders resolved. Attributes named only in a
   * ConditionExpression or FilterExpression are not counted: a modelling choice (AWS describes the key as the
   * attributes a request reads or writes), so a policy that must also cover them is judged more leniently here.
   */
  async function dynamoDbConditionKeys(input: Record<string, unknown>, partitionKey: string | undefined): Promise<AwsCall["conditionKeys"]> {
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const topLevel = (path: string) => {
      const first = path.trim().split(/[.[]/)[0];
      return names[first] ?? first;
    };
    const attributes = new Set<string>();
    const key = (input.Key ?? {}) as Record<string, unknown>;
    Object.keys(key).forEach((k) => attributes.add(k));
    Object.keys((input.Item ?? {}) as object).forEach((k) => attributes.add(k));
    Object.keys((input.AttributeUpdates ?? {}) as object).forEach((k) => attributes.add(k));
    ((input.AttributesToGet ?? []) as string[]).forEach((k) => attributes.add(k));
    if (typeof input.ProjectionExpression === "string") input.ProjectionExpression.split(",").forEach((p) => attributes.add(topLevel(p)));
    if (typeof input.UpdateExpression === "string") {
      // SET a = :v, b = if_not_exists(b, :w)  REMOVE c  ADD d :x  DELETE e :y: the targets are what is written.
      for (const clause of input.UpdateExpression.split(/\b(?=SET\b|REMOVE\b|ADD\b|DELETE\b)/i)) {
        const [verb, ...rest] = clause.trim().split(/\s+/);
        const body = rest.join(" ");
        for (const part of splitTopLevel(body)) {
          const target = /^set$/i.test(verb) ? part.split("=")[0] : part.trim().split(/\s+/)[0];
          if (target?.trim()) attributes.add(topLevel(target));
        }
      }
    }
    const keys: Record<string, string | readonly string[]> = {};
    if (attributes.size) keys["dynamodb:Attributes"] = [...attributes].sort();
    const leading = partitionKey ? (key[partitionKey] as Record<string, string> | undefined) : undefined;
    if (leading) keys["dynamodb:LeadingKeys"] = [String(Object.values(leading)[0])];
    if (typeof input.Select === "string") keys["dynamodb:Select"] = input.Select;
    if (typeof input.ReturnValues === "string") keys["dynamodb:ReturnValues"] = input.ReturnValues;
    return keys;
  }

  function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const target = new URL(options.motoEndpoint);
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on("end", resolve);
          answer.on("error", reject);
        },
      );
      upstream.on("error", reject);
      upstream.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    envFor: (principal) => ({ AWS_ENDPOINT_URL: url, AWS_REGION: options.region, AWS_ACCESS_KEY_ID: principal, AWS_SECRET_ACCESS_KEY: "recorded" }),
    async stop() {
      lookup.destroy();
      tables.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (problems.length) throw new Error(`the AWS call recorder failed: ${problems.map((p) => p.message).join("; ")}`);
    },
  };
}

/** Splits "a = :x, b = list_append(b, :y)" at the commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of text) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  if (current.trim()) parts.push(current);
  return parts;
}
