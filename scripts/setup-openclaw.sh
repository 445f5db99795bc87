#!/usr/bin/env bash
# Installs the real self-hosted OpenClaw gateway (npm `openclaw`) into .toolchain/openclaw/ for the tests of the
# openclaw-devices backend (test/openclaw/). It is NOT a project dependency: it is ~650 MB and the Lambda never
# needs it, so it stays out of package.json and package-lock.json.
#
# Idempotent: when the pinned version is already installed the script only checks a stamp and exits in a second.
# Env overrides: OPENCLAW_VERSION (default below), OPENCLAW_PREFIX (default .toolchain/openclaw; the tests look
# there), OPENCLAW_SETUP_FORCE=1 (reinstall even if current).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

OPENCLAW_VERSION="${OPENCLAW_VERSION:-2026.9.6}"
PREFIX="${OPENCLAW_PREFIX:-$TOOLCHAIN/openclaw}"
PKG_JSON="$PREFIX/node_modules/openclaw/package.json"
STAMP="$PREFIX/.setup-openclaw.stamp"

installed_version() { node -p "require(process.argv[1]).version" "$PKG_JSON" 2>/dev/null || true; }

if [ "${OPENCLAW_SETUP_FORCE:-}" != "1" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$OPENCLAW_VERSION" ] \
  && [ "$(installed_version)" = "$OPENCLAW_VERSION" ]; then
  printf 'openclaw %s is ready in %s\n' "$OPENCLAW_VERSION" "${PREFIX#$ROOT/}" >&2
  exit 0
fi

# openclaw's preinstall refuses anything but Node >=24.16 <25 (or >=26.1); env.sh puts Node 24 first on PATH.
node -e 'const [M,m]=process.versions.node.split(".").map(Number); process.exit((M===24&&m>=16)||(M===26&&m>=1)||M>26?0:1)' \
  || die "openclaw $OPENCLAW_VERSION needs Node >=24.16 <25 or >=26.1, but $(command -v node) is $(node --version); run scripts/setup.sh first"
command -v npm >/dev/null || die "npm is not on PATH; run scripts/setup.sh first"

step "Installing openclaw@$OPENCLAW_VERSION into ${PREFIX#$ROOT/} (~650 MB, about 30 s)"
rm -f "$STAMP"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-save --no-package-lock --no-audit --no-fund "openclaw@$OPENCLAW_VERSION" >&2 \
  || die "npm could not install openclaw@$OPENCLAW_VERSION into $PREFIX (see the npm output above; check registry access)"

got="$(installed_version)"
[ "$got" = "$OPENCLAW_VERSION" ] || die "npm finished but $PKG_JSON says version '${got:-<missing>}', expected $OPENCLAW_VERSION"
[ -x "$PREFIX/node_modules/.bin/openclaw" ] || die "npm finished but $PREFIX/node_modules/.bin/openclaw is missing"
printf '%s\n' "$OPENCLAW_VERSION" > "$STAMP"
printf 'openclaw %s is ready in %s\n' "$OPENCLAW_VERSION" "${PREFIX#$ROOT/}" >&2
