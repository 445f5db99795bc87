/**
 * docs/consumer-recipes.md's manifests (deploy/recipes/): every one parses, and each agrees with the product it
 * configures: the secret naming, the default consumerCacheTtl, and the rotator's event names.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseDuration } from "../../src/domain/duration";
import { isEnvironment } from "../../src/domain/environments";
import { DEFAULT_CONSUMER_CACHE_TTL } from "../../src/provider/inputs";
import { defaultSecretName } from "../../src/store/metadata";
import { detailType, EVENT_SOURCE, RotationMilestone, rotationEventPattern } from "../../src/rotation/observability";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { loadAll(text: string): unknown[] };

/** What the rotator publishes when a new token becomes AWSCURRENT (the EventBridge rule must match it exactly). */
const ROTATION_EVENT = { source: EVENT_SOURCE, detailType: detailType(RotationMilestone.Promoted) } as const;

const ROOT = join(__dirname, "..", "..");
const RECIPES = join(ROOT, "deploy", "recipes");
const DOC = readFileSync(join(ROOT, "docs", "consumer-recipes.md"), "utf8");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const files = filesUnder(RECIPES);
const parsed = new Map<string, Doc[]>();
for (const file of files) {
  if (/\.ya?ml$/.test(file)) parsed.set(file, yaml.loadAll(readFileSync(file, "utf8")));
  else if (file.endsWith(".json")) parsed.set(file, [JSON.parse(readFileSync(file, "utf8"))]);
}
const all = [...parsed.values()].flat();
const ofKind = (kind: string): Doc[] => all.filter((d) => d?.kind === kind);
const jsonOf = (name: string): Doc => parsed.get(join(RECIPES, "ecs-lambda", name))?.[0];

/** "openclaw/prod/app-backend" -> whether it is the name the product gives that token's secret. */
function isProductSecretName(key: string): boolean {
  const [, environment, name] = /^openclaw\/([^/]+)\/([^/]+)$/.exec(key) ?? [];
  return isEnvironment(environment) && defaultSecretName(environment, name) === key;
}

describe("deploy/recipes", () => {
  it("has manifests, every one of them parsed, and every one named by docs/consumer-recipes.md", () => {
    expect(parsed.size).toBeGreaterThanOrEqual(6);
    for (const docs of parsed.values()) {
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) expect(typeof doc).toBe("object");
    }
    for (const file of files) expect(DOC).toContain(relative(RECIPES, file).split("/").pop());
  });

  it("ships a restarter that Node can load", () => {
    for (const file of files.filter((f) => f.endsWith(".mjs"))) {
      const check = spawnSync(process.execPath, ["--check", file], { encoding: "utf8" });
      expect(check.stderr).toBe("");
      expect(check.status).toBe(0);
    }
  });

  describe("Kubernetes: External Secrets Operator", () => {
    const externalSecrets = ofKind("ExternalSecret");

    it("refreshes the synced Secret more often than the default consumerCacheTtl", () => {
      expect(externalSecrets).toHaveLength(1);
      const cacheTtl = parseDuration(DEFAULT_CONSUMER_CACHE_TTL) as number;
      expect(cacheTtl).toBe(3600);
      for (const es of externalSecrets) {
        const refresh = parseDuration(es.spec.refreshInterval);
        expect(refresh).toBeDefined();
        expect(refresh as number).toBeLessThan(cacheTtl);
      }
    });

    it("reads the product's secret (openclaw/<env>/<name>), property token, from a store defined next to it", () => {
      const stores = ofKind("SecretStore").map((s) => s.metadata.name);
      for (const es of externalSecrets) {
        expect(stores).toContain(es.spec.secretStoreRef.name);
        expect(es.spec.data.length).toBeGreaterThan(0);
        for (const { remoteRef } of es.spec.data) {
          expect(isProductSecretName(remoteRef.key)).toBe(true);
          expect(remoteRef.property).toBe("token");
          // AWSCURRENT (the default) only: a consumer never reads AWSPREVIOUS.
          expect(remoteRef.version ?? "AWSCURRENT").toBe("AWSCURRENT");
        }
      }
      expect(isProductSecretName("openclaw/qa/app-backend")).toBe(false);
      expect(isProductSecretName("openclaw-admin/prod/gateway")).toBe(false);
    });

    it("has Reloader roll a Deployment that reads the synced Secret, named by the annotation", () => {
      const deployments = ofKind("Deployment");
      expect(deployments).toHaveLength(1);
      for (const es of externalSecrets) {
        const synced: string = es.spec.target.name;
        const readers = deployments.filter((d) => String(d.metadata.annotations?.["secret.reloader.stakater.com/reload"] ?? "").split(",").includes(synced));
        expect(readers).toHaveLength(1);
        const refs = readers[0].spec.template.spec.containers.flatMap((c: Doc) => (c.env ?? []).map((e: Doc) => e.valueFrom?.secretKeyRef).filter(Boolean));
        expect(refs).toContainEqual({ name: synced, key: es.spec.data[0].secretKey });
      }
    });
  });

  describe("ECS and Lambda: consumers that read the secret at start", () => {
    it("injects AWSCURRENT's token property of the product's secret into the ECS task", () => {
      const secrets = jsonOf("task-definition.json").containerDefinitions.flatMap((c: Doc) => c.secrets ?? []);
      expect(secrets.length).toBeGreaterThan(0);
      for (const { valueFrom } of secrets) {
        const [, name, jsonKey, stage] = /^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+):([^:]+):([^:]*):$/.exec(valueFrom) ?? [];
        expect(isProductSecretName(name)).toBe(true);
        expect(jsonKey).toBe("token");
        expect(stage).toBe("AWSCURRENT");
      }
    });

    it("matches exactly the event the rotator publishes on a promotion, in the pattern and in the template's rule", () => {
      const pattern = jsonOf("event-pattern.json");
      // The rotator's own pattern for that milestone (src/rotation/observability.ts), for the recipe's environment.
      expect(pattern).toEqual(rotationEventPattern("prod", RotationMilestone.Promoted));
      expect(pattern.source).toEqual([ROTATION_EVENT.source]);
      expect(pattern["detail-type"]).toEqual([ROTATION_EVENT.detailType]);
      const template = parsed.get(join(RECIPES, "ecs-lambda", "restart-rule.yaml"))?.[0];
      const rules = Object.values(template.Resources as Record<string, Doc>).filter((r) => r.Type === "AWS::Events::Rule");
      expect(rules).toHaveLength(1);
      expect(rules[0].Properties.EventPattern).toEqual(pattern);
    });

    it("reads the token's declared name where the rotator's event carries it", () => {
      expect(readFileSync(join(RECIPES, "ecs-lambda", "restarter.mjs"), "utf8")).toMatch(/event\.detail\?\.token\b/);
    });

    it("sends the rule to the restarter function, which EventBridge may invoke from that rule only", () => {
      const resources = parsed.get(join(RECIPES, "ecs-lambda", "restart-rule.yaml"))?.[0].Resources as Record<string, Doc>;
      const [ruleId, rule] = Object.entries(resources).find(([, r]) => r.Type === "AWS::Events::Rule") as [string, Doc];
      const targetFunction = rule.Properties.Targets[0].Arn["Fn::GetAtt"][0];
      expect(resources[targetFunction].Type).toBe("AWS::Lambda::Function");
      const permission = Object.values(resources).find((r) => r.Type === "AWS::Lambda::Permission");
      expect(permission.Properties).toMatchObject({ Principal: "events.amazonaws.com", SourceArn: { "Fn::GetAtt": [ruleId, "Arn"] } });
    });
  });
});
