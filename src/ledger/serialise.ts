/** The ledger's JSON attributes: written and read only here, with dates as ISO strings. */
import { isEnvironment } from "../domain/environments";
import { Declaration, DEFAULT_CONSUMER_CACHE_TTL_SECONDS, LedgerError, LedgerPhase, LedgerToken, LeaseRecord, RotationState } from "./ledger";

const PHASES = new Set<string>(Object.values(LedgerPhase));

function fail(key: string, detail: string): never {
  throw new LedgerError("read", key, new Error(`entry ${key} is malformed: ${detail}`));
}

function parse(text: string | undefined, key: string, what: string): Record<string, unknown> {
  if (!text) fail(key, `${what} is missing`);
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  return fail(key, `${what} is not a JSON object`);
}

const str = (raw: Record<string, unknown>, field: string, key: string): string =>
  typeof raw[field] === "string" && raw[field] !== "" ? (raw[field] as string) : fail(key, `${field} is missing`);
const num = (raw: Record<string, unknown>, field: string, key: string): number =>
  typeof raw[field] === "number" && Number.isFinite(raw[field]) ? (raw[field] as number) : fail(key, `${field} is not a number`);
const date = (value: unknown, field: string, key: string): Date => {
  const d = new Date(typeof value === "string" ? value : NaN);
  return Number.isNaN(d.getTime()) ? fail(key, `${field} is not a timestamp`) : d;
};
const optionalDate = (value: unknown, field: string, key: string): Date | undefined => (value === undefined || value === null ? undefined : date(value, field, key));

export function serialiseDeclaration(d: Declaration): string {
  return JSON.stringify(d);
}

export function parseDeclaration(text: string | undefined, key: string): Declaration {
  const raw = parse(text, key, "declaration");
  const environment = str(raw, "environment", key);
  if (!isEnvironment(environment)) fail(key, `environment "${environment}" is unknown`);
  if (!Array.isArray(raw.scopes) || !raw.scopes.every((s) => typeof s === "string")) fail(key, "scopes is not a list");
  return {
    name: str(raw, "name", key),
    secretName: str(raw, "secretName", key),
    environment,
    gatewayUrl: str(raw, "gatewayUrl", key),
    backend: str(raw, "backend", key),
    scopes: raw.scopes as string[],
    allowAdminScope: raw.allowAdminScope === true,
    ttlSeconds: num(raw, "ttlSeconds", key),
    rotationFraction: num(raw, "rotationFraction", key),
    // Entries written before consumerCacheTtl existed get its default.
    consumerCacheTtlSeconds: raw.consumerCacheTtlSeconds === undefined ? DEFAULT_CONSUMER_CACHE_TTL_SECONDS : num(raw, "consumerCacheTtlSeconds", key),
  };
}

function tokenToJson(t: LedgerToken | undefined) {
  return t && { ...t, issuedAt: t.issuedAt.toISOString(), expiresAt: t.expiresAt.toISOString() };
}

function tokenFromJson(value: unknown, field: string, key: string): LedgerToken | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  return {
    tokenId: str(raw, "tokenId", key),
    gatewayName: str(raw, "gatewayName", key),
    issuedAt: date(raw.issuedAt, `${field}.issuedAt`, key),
    expiresAt: date(raw.expiresAt, `${field}.expiresAt`, key),
    versionId: str(raw, "versionId", key),
    valueSha256: str(raw, "valueSha256", key),
  };
}

export function serialiseState(s: RotationState): string {
  return JSON.stringify({
    phase: s.phase,
    current: tokenToJson(s.current),
    pending: tokenToJson(s.pending),
    retiring: tokenToJson(s.retiring),
    rotation: s.rotation && { ...s.rotation, startedAt: s.rotation.startedAt.toISOString() },
    promotedAt: s.promotedAt?.toISOString(),
    lastRotatedAt: s.lastRotatedAt?.toISOString(),
    abandonedMints: s.abandonedMints.map((m) => ({ mintName: m.mintName, at: m.at.toISOString() })),
    revokeNow: s.revokeNow.map((t) => ({ tokenId: t.tokenId, gatewayName: t.gatewayName })),
    nextCheckAt: s.nextCheckAt.toISOString(),
    lastError: s.lastError,
    forcedRevocation: s.forcedRevocation || undefined,
    replaceNow: s.replaceNow || undefined,
    consumersOnOldToken: s.consumersOnOldToken?.length ? s.consumersOnOldToken : undefined,
    suspendedAt: s.suspendedAt?.toISOString(),
  });
}

export function parseState(text: string | undefined, key: string): RotationState {
  const raw = parse(text, key, "state");
  const phase = str(raw, "phase", key);
  if (!PHASES.has(phase)) fail(key, `phase "${phase}" is unknown`);
  const rotation = raw.rotation as Record<string, unknown> | undefined;
  return {
    phase: phase as LedgerPhase,
    current: tokenFromJson(raw.current, "current", key),
    pending: tokenFromJson(raw.pending, "pending", key),
    retiring: tokenFromJson(raw.retiring, "retiring", key),
    rotation: rotation
      ? {
          id: str(rotation, "id", key),
          mintName: str(rotation, "mintName", key),
          versionId: str(rotation, "versionId", key),
          startedAt: date(rotation.startedAt, "rotation.startedAt", key),
          origin: str(rotation, "origin", key),
        }
      : undefined,
    promotedAt: optionalDate(raw.promotedAt, "promotedAt", key),
    lastRotatedAt: optionalDate(raw.lastRotatedAt, "lastRotatedAt", key),
    abandonedMints: Array.isArray(raw.abandonedMints)
      ? raw.abandonedMints.map((m: Record<string, unknown>) => ({ mintName: str(m, "mintName", key), at: date(m.at, "abandonedMints.at", key) }))
      : [],
    revokeNow: Array.isArray(raw.revokeNow)
      ? raw.revokeNow.map((t: Record<string, unknown>) => ({ tokenId: str(t, "tokenId", key), gatewayName: str(t, "gatewayName", key) }))
      : [],
    nextCheckAt: date(raw.nextCheckAt, "nextCheckAt", key),
    lastError: typeof raw.lastError === "string" ? raw.lastError : undefined,
    forcedRevocation: raw.forcedRevocation === true || undefined,
    replaceNow: raw.replaceNow === true || undefined,
    ...(raw.suspendedAt !== undefined && raw.suspendedAt !== null && { suspendedAt: date(raw.suspendedAt, "suspendedAt", key) }),
    ...(Array.isArray(raw.consumersOnOldToken) && { consumersOnOldToken: raw.consumersOnOldToken.filter((c): c is string => typeof c === "string") }),
  };
}

export function serialiseLease(l: LeaseRecord): string {
  return JSON.stringify({ owner: l.owner, renewedAt: l.renewedAt.toISOString(), ttlMs: l.ttlMs });
}

export function parseLease(text: string, key: string): LeaseRecord {
  const raw = parse(text, key, "lease");
  return { owner: str(raw, "owner", key), renewedAt: date(raw.renewedAt, "lease.renewedAt", key), ttlMs: num(raw, "ttlMs", key) };
}
