/** The per-token lease on a real DynamoDB API (moto): exclusion, renewal, expiry, take-over and release. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbLeaseStore } from "../../src/lease/dynamodb-lease-store";
import { MotoServer, startMoto } from "../support/moto";

describe("DynamoDbLeaseStore", () => {
  let moto: MotoServer;
  let client: DynamoDBClient;
  let leases: DynamoDbLeaseStore;
  const t0 = new Date("2026-11-21T12:00:00Z");
  const at = (ms: number) => new Date(t0.getTime() + ms);

  beforeAll(async () => {
    moto = await startMoto();
    client = new DynamoDBClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    leases = new DynamoDbLeaseStore({ tableName: "leases-test", client });
  });
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await leases.ensureTable();
  });

  it("gives a held lease to no one else, and to its owner again as a renewal that extends it", async () => {
    const first = await leases.acquire("token#a", "run-1", 60_000, t0);
    expect(first?.expiresAt).toEqual(at(60_000));

    expect(await leases.acquire("token#a", "run-2", 60_000, at(30_000))).toBeUndefined();
    const renewed = await leases.acquire("token#a", "run-1", 60_000, at(30_000));
    expect(renewed?.expiresAt).toEqual(at(90_000));
    expect(await leases.acquire("token#a", "run-2", 60_000, at(70_000))).toBeUndefined(); // the renewal counts
  });

  it("frees a lease when it expires, so that a crashed run blocks the token only until then", async () => {
    await leases.acquire("token#a", "crashed", 60_000, t0);
    expect(await leases.acquire("token#a", "next", 60_000, at(60_001))).toMatchObject({ owner: "next" });
  });

  it("lets take-over win over a live lease, and the old owner can then neither renew nor release it", async () => {
    const held = await leases.acquire("token#a", "scheduled", 60_000, t0);

    await leases.takeOver("token#a", "emergency", 60_000, at(1_000));

    expect(await leases.acquire("token#a", "scheduled", 60_000, at(2_000))).toBeUndefined();
    await leases.release(held!);
    expect(await leases.acquire("token#a", "third", 60_000, at(3_000))).toBeUndefined(); // still the emergency's
  });

  it("frees a lease on release by its owner", async () => {
    const held = await leases.acquire("token#a", "run-1", 60_000, t0);
    await leases.release(held!);
    expect(await leases.acquire("token#a", "run-2", 60_000, at(1_000))).toMatchObject({ owner: "run-2" });
  });
});
