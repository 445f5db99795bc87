/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    // Type-checking is done once by `tsc --noEmit` in scripts/test.sh; Jest only strips types.
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  testTimeout: 60_000,
  // Suites share loopback servers they start themselves; two workers fit CI's 2 cores.
  maxWorkers: 2,
};
