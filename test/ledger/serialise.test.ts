import { LedgerError } from "../../src/ledger/ledger";
import { parseDeclaration, serialiseDeclaration } from "../../src/ledger/serialise";

const written = {
  name: "ci-runner",
  secretName: "openclaw/dev/ci-runner",
  environment: "dev",
  gatewayUrl: "http://127.0.0.1:1",
  backend: "documented-api",
  scopes: ["run:jobs"],
  allowAdminScope: false,
  ttlSeconds: 30 * 86_400,
  rotationFraction: 0.8,
};

describe("ledger declaration: consumerCacheTtlSeconds", () => {
  it("defaults to an hour for an entry written before it existed", () => {
    expect(parseDeclaration(JSON.stringify(written), "k").consumerCacheTtlSeconds).toBe(3600);
  });

  it("round-trips a declared value and refuses a malformed one", () => {
    const declared = { ...parseDeclaration(JSON.stringify(written), "k"), consumerCacheTtlSeconds: 600 };
    expect(parseDeclaration(serialiseDeclaration(declared), "k")).toEqual(declared);
    expect(() => parseDeclaration(JSON.stringify({ ...written, consumerCacheTtlSeconds: "1h" }), "k")).toThrow(LedgerError);
  });
});
