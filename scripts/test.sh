#!/usr/bin/env bash
# The test command (README, .ci/run): set up, type-check, run every Jest suite, and close with
# one "N passed, N failed" line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh

step "Type-checking (tsc --noEmit)"
npx tsc --noEmit -p tsconfig.json || die "type errors: see above"

step "Linting (eslint, typescript-eslint)"
npx eslint || die "lint errors: see above"

step "Running tests (jest)"
mkdir -p .run
status=0
npx jest --json --outputFile=.run/jest-results.json "$@" || status=$?
node -e '
  const r = require("./.run/jest-results.json");
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  if (r.numTotalTests === 0) { console.error("error: no test ran"); process.exit(1); }
' || status=1
exit "$status"
