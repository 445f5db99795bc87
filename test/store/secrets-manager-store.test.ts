import { SecretsManagerClient, PutSecretValueCommand, DescribeSecretCommand } from "@aws-sdk/client-secrets-manager";
import { writeAsCurrent } from "../../src/store/promote";
import { EnvironmentMismatchError } from "../../src/domain/errors";
import { Tag } from "../../src/store/metadata";
import { CorruptRecordError } from "../../src/store/record";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { Stage } from "../../src/store/token-store";
import { sampleRecord } from "../support/fixtures";
import { MotoServer, startMoto } from "../support/moto";

/** The version ID a secret is created with (the ledger records it). */
const VERSION = "00000000-0000-4000-8000-000000000001";

describe("SecretsManagerTokenStore (against moto)", () => {
  let moto: MotoServer;
  let client: SecretsManagerClient;
  let dev: SecretsManagerTokenStore;

  beforeAll(async () => {
    moto = await startMoto();
    client = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    dev = new SecretsManagerTokenStore({ environment: "dev", client });
  });
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(() => moto.reset());

  describe("create / describe / read", () => {
    it("stores the record as AWSCURRENT in the given version, tagged with the token's identity only", async () => {
      // Prepare
      const record = sampleRecord();
      // Act
      const created = await dev.create("openclaw/dev/ci-runner", VERSION, record);
      const read = await dev.read("openclaw/dev/ci-runner", Stage.Current);
      // Assess
      expect(created.arn).toMatch(/^arn:aws:secretsmanager:/);
      expect(created.stages.AWSCURRENT).toBe(VERSION);
      expect(created.tags).toEqual({ [Tag.ManagedBy]: "openclaw-token-ops", [Tag.Environment]: "dev", [Tag.TokenName]: "ci-runner" });
      expect(read?.token.reveal()).toBe(record.token.reveal());
      expect(read?.tokenId).toBe(record.tokenId);
      expect(read?.expiresAt.toISOString()).toBe(record.expiresAt.toISOString());
    });

    it("returns undefined for a secret that does not exist", async () => {
      expect(await dev.describe("openclaw/dev/nothing")).toBeUndefined();
      expect(await dev.read("openclaw/dev/nothing", Stage.Current)).toBeUndefined();
    });

    it("never puts the token value in tags or description", async () => {
      const record = sampleRecord();
      const created = await dev.create("openclaw/dev/ci-runner", VERSION, record);
      expect(JSON.stringify(created)).not.toContain(record.token.reveal());
    });
  });

  describe("version stages", () => {
    it("moves AWSPREVIOUS to the old version when a new one becomes AWSCURRENT", async () => {
      const first = sampleRecord();
      const second = sampleRecord();
      const created = await dev.create("openclaw/dev/ci-runner", VERSION, first);
      await dev.putVersion("openclaw/dev/ci-runner", "11111111-1111-4111-8111-111111111111", second, [Stage.Current]);
      const after = await dev.describe("openclaw/dev/ci-runner");
      expect(after?.stages.AWSCURRENT).toBe("11111111-1111-4111-8111-111111111111");
      expect(after?.stages.AWSPREVIOUS).toBe(created.stages.AWSCURRENT);
      expect((await dev.read("openclaw/dev/ci-runner", Stage.Previous))?.tokenId).toBe(first.tokenId);
    });

    it("stages AWSPENDING and promotes it with moveStage", async () => {
      const first = sampleRecord();
      const next = sampleRecord();
      const created = await dev.create("openclaw/dev/ci-runner", VERSION, first);
      const pendingId = "22222222-2222-4222-8222-222222222222";
      await dev.putVersion("openclaw/dev/ci-runner", pendingId, next, [Stage.Pending]);
      expect((await dev.read("openclaw/dev/ci-runner", Stage.Pending))?.tokenId).toBe(next.tokenId);
      expect((await dev.read("openclaw/dev/ci-runner", Stage.Current))?.tokenId).toBe(first.tokenId);

      await dev.moveStage("openclaw/dev/ci-runner", Stage.Current, pendingId, created.stages.AWSCURRENT);
      await dev.removeStage("openclaw/dev/ci-runner", Stage.Pending, pendingId);

      const after = await dev.describe("openclaw/dev/ci-runner");
      expect(after?.stages).toEqual({ AWSCURRENT: pendingId, AWSPREVIOUS: created.stages.AWSCURRENT });
    });

    it("promotes a new version after a rotation moved AWSCURRENT, leaving exactly one current version", async () => {
      const first = sampleRecord();
      const created = await dev.create("openclaw/dev/ci-runner", VERSION, first);
      const rotated = "66666666-6666-4666-8666-666666666666";
      const replaced = "77777777-7777-4777-8777-777777777777";
      await writeAsCurrent(dev, "openclaw/dev/ci-runner", rotated, sampleRecord(), created.stages.AWSCURRENT);
      const replacement = sampleRecord();

      await writeAsCurrent(dev, "openclaw/dev/ci-runner", replaced, replacement, rotated);

      const labels = Object.values((await client.send(new DescribeSecretCommand({ SecretId: "openclaw/dev/ci-runner" }))).VersionIdsToStages ?? {}).flat();
      expect(labels.filter((l) => l === "AWSCURRENT")).toHaveLength(1);
      expect((await dev.describe("openclaw/dev/ci-runner"))?.stages).toEqual({ AWSCURRENT: replaced, AWSPREVIOUS: rotated });
      expect((await dev.read("openclaw/dev/ci-runner", Stage.Current))?.tokenId).toBe(replacement.tokenId);
    });

    it("treats writing the same version twice as a no-op, so a resumed step can repeat it", async () => {
      const first = sampleRecord();
      const next = sampleRecord();
      await dev.create("openclaw/dev/ci-runner", VERSION, first);
      const versionId = "33333333-3333-4333-8333-333333333333";
      await dev.putVersion("openclaw/dev/ci-runner", versionId, next, [Stage.Pending]);
      await expect(dev.putVersion("openclaw/dev/ci-runner", versionId, next, [Stage.Pending])).resolves.toBeUndefined();
    });
  });

  describe("secret IDs", () => {
    it("resolves an ARN (as Secrets Manager's rotation events send it) to the secret's name", async () => {
      const created = await dev.create("openclaw/dev/ci-runner", VERSION, sampleRecord());
      expect(await dev.resolveName(created.arn)).toBe("openclaw/dev/ci-runner");
      expect(await dev.resolveName("openclaw/dev/ci-runner")).toBe("openclaw/dev/ci-runner");
    });

    it("refuses an ARN of a secret outside its namespace", async () => {
      const prod = new SecretsManagerTokenStore({ environment: "prod", client });
      const created = await prod.create("openclaw/prod/ci-runner", VERSION, sampleRecord({ environment: "prod" }));
      await expect(dev.resolveName(created.arn)).rejects.toThrow(/outside the dev namespace/);
    });
  });

  describe("environment isolation", () => {
    it("refuses names outside its environment's namespace before calling AWS", async () => {
      const record = sampleRecord();
      await expect(dev.create("openclaw/prod/ci-runner", VERSION, record)).rejects.toThrow(EnvironmentMismatchError);
      await expect(dev.describe("other/ci-runner")).rejects.toThrow(/outside the dev namespace openclaw\/dev\//);
    });

    it("refuses to write another environment's token", async () => {
      const record = sampleRecord({ environment: "prod" });
      await expect(dev.create("openclaw/dev/ci-runner", VERSION, record)).rejects.toThrow(
        /refusing to write a prod token into openclaw\/dev\/ci-runner/,
      );
    });

    it("ignores an environment tag someone else set: tags decide nothing (a refusal on a forged tag would wedge the token)", async () => {
      await dev.create("openclaw/dev/ci-runner", VERSION, sampleRecord());
      await client.send(
        new (await import("@aws-sdk/client-secrets-manager")).TagResourceCommand({ SecretId: "openclaw/dev/ci-runner", Tags: [{ Key: Tag.Environment, Value: "prod" }] }),
      );
      expect((await dev.describe("openclaw/dev/ci-runner"))?.stages.AWSCURRENT).toBe(VERSION);
    });
  });

  describe("bad state", () => {
    it("reports a hand-edited value as a corrupt record, without echoing it", async () => {
      const record = sampleRecord();
      await dev.create("openclaw/dev/ci-runner", VERSION, record);
      await client.send(new PutSecretValueCommand({ SecretId: "openclaw/dev/ci-runner", SecretString: "openclaw_gw_dev_pasted-by-hand" }));
      const error = await dev.read("openclaw/dev/ci-runner", Stage.Current).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect(String((error as Error).message)).not.toContain("pasted-by-hand");
    });
  });

  describe("delete / restore", () => {
    it("schedules deletion with a recovery window, and can restore", async () => {
      const record = sampleRecord();
      await dev.create("openclaw/dev/ci-runner", VERSION, record);
      await dev.delete("openclaw/dev/ci-runner", { recoveryWindowDays: 7 });
      expect((await dev.describe("openclaw/dev/ci-runner"))?.deletedAt).toBeInstanceOf(Date);
      await dev.restore("openclaw/dev/ci-runner");
      expect((await dev.describe("openclaw/dev/ci-runner"))?.deletedAt).toBeUndefined();
    });

    it("deletes at once when the window is 0", async () => {
      const record = sampleRecord();
      await dev.create("openclaw/dev/ci-runner", VERSION, record);
      await dev.delete("openclaw/dev/ci-runner", { recoveryWindowDays: 0 });
      expect(await dev.describe("openclaw/dev/ci-runner")).toBeUndefined();
    });
  });
});
