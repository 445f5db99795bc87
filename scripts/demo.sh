#!/usr/bin/env bash
# The main command (README): installs what is missing, then runs the whole product locally
# (local/main.ts): moto + reference gateway on loopback, pulumi up of the local stack, consumers,
# and the rotator Lambda on an accelerated clock through full dual-active rotations.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
exec node dist/local.js "$@"
