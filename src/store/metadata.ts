import { Environment, isEnvironment } from "../domain/environments";
import type { TokenRecord } from "./record";

/** Tag keys of a managed secret. Tags hold what a scan needs without reading any secret value. */
export const Tag = {
  ManagedBy: "openclaw:managed-by",
  Environment: "openclaw:environment",
  TokenName: "openclaw:token-name",
  Backend: "openclaw:backend",
  GatewayUrl: "openclaw:gateway-url",
  TokenId: "openclaw:token-id",
  IssuedAt: "openclaw:issued-at",
  ExpiresAt: "openclaw:expires-at",
  TtlSeconds: "openclaw:ttl-seconds",
  RotationFraction: "openclaw:rotation-fraction",
  /** Set while a superseded token is still live: the rotator drains and revokes it. */
  RetiringTokenId: "openclaw:retiring-token-id",
  /** When the current token became AWSCURRENT: traffic under it is counted from then on. */
  PromotedAt: "openclaw:promoted-at",
  /** Expiry of the retiring token: it is revoked before then whether or not consumers moved. */
  RetiringExpiresAt: "openclaw:retiring-expires-at",
  /** A rotation's intent, recorded before minting: its ID (= the AWSPENDING version ID) ... */
  RotationId: "openclaw:rotation-id",
  /** ... and the unique gateway name it mints under, so a crash after minting can find what was minted. */
  RotationMintName: "openclaw:rotation-mint-name",
  RotationStartedAt: "openclaw:rotation-started-at",
  LastRotatedAt: "openclaw:last-rotated-at",
} as const;

/** A rotation under way, recorded in tags before anything is minted. */
export interface RotationIntent {
  readonly id: string;
  readonly mintName: string;
  readonly startedAt: Date;
}

export const MANAGED_BY = "openclaw-token-ops";

/** Non-secret facts about a managed token, as kept in its secret's tags. */
export interface TokenMetadata {
  readonly environment: Environment;
  readonly tokenName: string;
  readonly backend: string;
  readonly gatewayUrl: string;
  readonly tokenId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly ttlSeconds: number;
  readonly rotationFraction: number;
  readonly retiringTokenId: string | undefined;
  readonly retiringExpiresAt: Date | undefined;
  readonly promotedAt: Date | undefined;
  readonly rotation: RotationIntent | undefined;
  readonly lastRotatedAt: Date | undefined;
}

/** How a token is rotated: the part of its metadata that comes from its declaration, not from the token. */
export interface RotationPolicy {
  readonly ttlSeconds: number;
  readonly rotationFraction: number;
}

/**
 * The metadata of a secret whose AWSCURRENT holds `record`, with no rotation under way; `retiring` names the
 * token it superseded while that one stays valid.
 */
export function metadataForRecord(
  record: TokenRecord,
  policy: RotationPolicy,
  retiring: { retiringTokenId?: string; retiringExpiresAt?: Date; promotedAt?: Date } = {},
): TokenMetadata {
  return {
    environment: record.environment,
    tokenName: record.name,
    backend: record.backend,
    gatewayUrl: record.gatewayUrl,
    tokenId: record.tokenId,
    issuedAt: record.issuedAt,
    expiresAt: record.expiresAt,
    ttlSeconds: policy.ttlSeconds,
    rotationFraction: policy.rotationFraction,
    retiringTokenId: retiring.retiringTokenId,
    retiringExpiresAt: retiring.retiringExpiresAt,
    promotedAt: retiring.promotedAt,
    rotation: undefined,
    lastRotatedAt: undefined,
  };
}

export function metadataToTags(meta: TokenMetadata): Record<string, string> {
  const tags: Record<string, string> = {
    [Tag.ManagedBy]: MANAGED_BY,
    [Tag.Environment]: meta.environment,
    [Tag.TokenName]: meta.tokenName,
    [Tag.Backend]: meta.backend,
    [Tag.GatewayUrl]: meta.gatewayUrl,
    [Tag.TokenId]: meta.tokenId,
    [Tag.IssuedAt]: meta.issuedAt.toISOString(),
    [Tag.ExpiresAt]: meta.expiresAt.toISOString(),
    [Tag.TtlSeconds]: String(meta.ttlSeconds),
    [Tag.RotationFraction]: String(meta.rotationFraction),
  };
  if (meta.retiringTokenId) tags[Tag.RetiringTokenId] = meta.retiringTokenId;
  if (meta.retiringExpiresAt) tags[Tag.RetiringExpiresAt] = meta.retiringExpiresAt.toISOString();
  if (meta.promotedAt) tags[Tag.PromotedAt] = meta.promotedAt.toISOString();
  if (meta.rotation) {
    tags[Tag.RotationId] = meta.rotation.id;
    tags[Tag.RotationMintName] = meta.rotation.mintName;
    tags[Tag.RotationStartedAt] = meta.rotation.startedAt.toISOString();
  }
  if (meta.lastRotatedAt) tags[Tag.LastRotatedAt] = meta.lastRotatedAt.toISOString();
  return tags;
}

/** The metadata in a secret's tags, or a list of what is missing or malformed. */
export function tagsToMetadata(tags: Record<string, string>): TokenMetadata | { problems: string[] } {
  const problems: string[] = [];
  const need = (key: string): string => {
    const value = tags[key];
    if (!value) problems.push(`tag ${key} is missing`);
    return value ?? "";
  };
  const date = (key: string): Date => {
    const d = new Date(need(key));
    if (tags[key] && Number.isNaN(d.getTime())) problems.push(`tag ${key} is not a timestamp`);
    return d;
  };
  const optionalDate = (key: string): Date | undefined => {
    if (!tags[key]) return undefined;
    const d = new Date(tags[key]);
    if (Number.isNaN(d.getTime())) problems.push(`tag ${key} is not a timestamp`);
    return d;
  };
  const positive = (key: string): number => {
    const n = Number(need(key));
    if (tags[key] && !(n > 0)) problems.push(`tag ${key} is not a positive number`);
    return n;
  };
  if (tags[Tag.ManagedBy] !== MANAGED_BY) problems.push(`tag ${Tag.ManagedBy} is not ${MANAGED_BY}`);
  const environment = need(Tag.Environment);
  if (tags[Tag.Environment] && !isEnvironment(environment)) problems.push(`environment "${environment}" is unknown`);
  let meta: TokenMetadata = {
    environment: environment as Environment,
    tokenName: need(Tag.TokenName),
    backend: need(Tag.Backend),
    gatewayUrl: need(Tag.GatewayUrl),
    tokenId: need(Tag.TokenId),
    issuedAt: date(Tag.IssuedAt),
    expiresAt: date(Tag.ExpiresAt),
    ttlSeconds: positive(Tag.TtlSeconds),
    rotationFraction: positive(Tag.RotationFraction),
    retiringTokenId: tags[Tag.RetiringTokenId] || undefined,
    retiringExpiresAt: optionalDate(Tag.RetiringExpiresAt),
    promotedAt: optionalDate(Tag.PromotedAt),
    rotation: undefined,
    lastRotatedAt: optionalDate(Tag.LastRotatedAt),
  };
  if (tags[Tag.RotationId] || tags[Tag.RotationMintName]) {
    meta = {
      ...meta,
      rotation: { id: need(Tag.RotationId), mintName: need(Tag.RotationMintName), startedAt: date(Tag.RotationStartedAt) },
    };
  }
  if (meta.retiringTokenId && !meta.promotedAt) problems.push(`tag ${Tag.PromotedAt} is missing while a token is retiring`);
  return problems.length ? { problems } : meta;
}

/** Secret names are namespaced by environment, so that an IAM policy can confine a rotator to its own. */
export function secretNamespace(environment: Environment): string {
  return `openclaw/${environment}/`;
}

export function defaultSecretName(environment: Environment, tokenName: string): string {
  return `${secretNamespace(environment)}${tokenName}`;
}

/**
 * The gateway admin token of an environment lives apart from the tokens it mints, so that a role allowed to
 * write token secrets (the rotator's) can be allowed only to read this one.
 */
export function adminSecretName(environment: Environment): string {
  return `openclaw-admin/${environment}/gateway`;
}
