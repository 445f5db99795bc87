#!/usr/bin/env bash
# The benchmarks (BENCHMARKS.md): set up, then run bench/main.ts against moto and the reference gateway on loopback.
#   npm run bench                       quick size (about 10 minutes)
#   npm run bench -- --full             full size (10,000-token scan, more repetitions; about 40 minutes)
#   npm run bench -- --latency-ms 50    latency the reference gateway adds to every request (default 20)
#   npm run bench -- --only rotation    one or more scenarios: idle-scan,rotation,due-run,pulumi,lambda-bundle
# Prints one table and writes the same figures to bench/results/<timestamp>.json and bench/results/latest.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh

step "Running benchmarks (bench/main.ts)"
# Transpile-only: the sources run as they are (paths relative to each file stay right); tsc checks types elsewhere.
TS_NODE_TRANSPILE_ONLY=true TS_NODE_PROJECT="$ROOT/tsconfig.json" exec node -r ts-node/register bench/main.ts "$@"
