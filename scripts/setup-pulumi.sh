#!/usr/bin/env bash
# Makes a working Pulumi CLI (`pulumi`), Node.js language host (`pulumi-language-nodejs`) and the
# dynamic-provider shim (`pulumi-resource-pulumi-nodejs`) available in .toolchain/pulumi/bin/,
# built from Go modules (no prebuilt binaries are downloadable on this project's machines).
#
#   * A `pulumi` already on PATH with version >= 3.200 is preferred: the script just says where it is.
#   * Otherwise the CLI is built from github.com/pulumi/pulumi/pkg/v3 at $PULUMI_CLI_VERSION inside a
#     small wrapper module (.toolchain/pulumi/src/cli) that copies pkg/v3's non-local `replace` lines.
#   * The upstream Node language host module is not obtainable from the Go module proxy, so a small
#     language host (embedded below) is built against sdk/v3 in the same wrapper module. It runs
#     programs through @pulumi/pulumi's own `cmd/run` script, as the upstream host does.
#   * The shim is copied from the sdk/v3 module (nodejs/dist/pulumi-resource-pulumi-nodejs) next to
#     `pulumi`, where the engine looks for bundled plugins.
#
# Idempotent: a second run checks versions and a stamp, and exits in about a second.
# The Go caches (GOPATH, GOMODCACHE, GOCACHE, ~5 GB) and a copy of the built binaries live in a
# machine-level cache outside the clone ($OPENCLAW_TOKEN_OPS_CACHE, default ~/.cache/openclaw-token-ops),
# so that a fresh clone on the same machine (CI's) copies the binaries in seconds instead of building
# for 10-20 minutes. The first build on a new machine takes that long.
#
# Env overrides: PULUMI_CLI_VERSION (default below), PULUMI_SETUP_IGNORE_PATH=1 (don't use a
# `pulumi` found on PATH), PULUMI_SETUP_FORCE=1 (rebuild even if the binaries look current).
set -euo pipefail

# pkg/v3 v3.270.0 (the version matching @pulumi/pulumi 3.270.0) is refused by the module proxy
# reachable here ("This module version is not available"); v3.259.0 is the newest pkg/v3 it serves.
PULUMI_CLI_VERSION="${PULUMI_CLI_VERSION:-v3.259.0}"
MIN_PATH_VERSION="3.200.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TC="$ROOT/.toolchain"
BIN="$TC/pulumi/bin"
SRC="$TC/pulumi/src/cli"
LOG="$TC/pulumi/build.log"
CACHE="${OPENCLAW_TOKEN_OPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw-token-ops}"
CACHED_BIN="$CACHE/pulumi/bin"

log() { printf '[setup-pulumi] %s\n' "$*" >&2; }
die() { printf '[setup-pulumi] ERROR: %s\n' "$*" >&2; exit 1; }

# version_ge A B: true when semver A >= B (leading v and pre-release/build suffixes ignored).
version_ge() {
  local a="${1#v}" b="${2#v}"
  a="${a%%[-+]*}"; b="${b%%[-+]*}"
  [ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | head -n1)" = "$b" ]
}

# ---------------------------------------------------------------------------------------------------
# 0. A pulumi on PATH that is recent enough wins (unless it is our own build).
if [ "${PULUMI_SETUP_IGNORE_PATH:-}" != "1" ] && existing="$(command -v pulumi 2>/dev/null)"; then
  existing_real="$(readlink -f "$existing")"
  if [ "$existing_real" != "$(readlink -f "$BIN/pulumi" 2>/dev/null || true)" ]; then
    v="$(PULUMI_SKIP_UPDATE_CHECK=true "$existing" version 2>/dev/null | head -n1 || true)"
    if [ -n "$v" ] && version_ge "$v" "$MIN_PATH_VERSION"; then
      log "using pulumi $v already on PATH: $existing"
      exit 0
    fi
    log "ignoring pulumi on PATH ($existing, version '${v:-unknown}'): need >= $MIN_PATH_VERSION"
  fi
fi

# ---------------------------------------------------------------------------------------------------
# The language host source (embedded so the script is the single source of truth).
langhost_source() {
cat <<'GO_EOF'
// Minimal Pulumi Node.js language host (pulumi-language-nodejs).
//
// Written for this project's offline toolchain: the upstream language host
// module is not obtainable from the Go module proxy here, so this small host
// implements just what `pulumi preview/up/refresh/destroy` need:
// GetPluginInfo, GetRequiredPlugins/GetRequiredPackages (scan of
// node_modules for packages that declare a Pulumi resource plugin), Run
// (launches `node <@pulumi/pulumi/cmd/run> ...` exactly the way the Node SDK's
// run script expects), About and GetProgramDependencies. Everything else
// answers Unimplemented, which the engine tolerates.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Exit code used by @pulumi/pulumi/cmd/run after it already printed a
// user-actionable error message.
const nodeExitedAfterUserMessage = 32

func main() {
	// The engine passes its own address as the last positional argument; older
	// engines also passed flags such as -tracing/-typescript/-root.
	flag.String("tracing", "", "ignored")
	flag.Bool("typescript", true, "ignored; use runtime option 'typescript'")
	flag.String("root", "", "ignored")
	flag.Parse()
	engineAddress := ""
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[len(args)-1]
	}

	h := &host{engineAddress: engineAddress}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start RPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version.Version, "v")}, nil
}

// ---- options -----------------------------------------------------------

type options struct {
	typescript bool
	nodeargs   []string
	tsconfig   string
}

func parseOptions(s *structpb.Struct) options {
	o := options{typescript: true}
	if s == nil {
		return o
	}
	m := s.AsMap()
	if v, ok := m["typescript"].(bool); ok {
		o.typescript = v
	}
	if v, ok := m["nodeargs"].(string); ok && strings.TrimSpace(v) != "" {
		o.nodeargs = strings.Fields(v)
	}
	if v, ok := m["tsconfig"].(string); ok {
		o.tsconfig = v
	}
	return o
}

func programDir(info *pulumirpc.ProgramInfo, pwd string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if pwd != "" {
		return pwd
	}
	wd, _ := os.Getwd()
	return wd
}

// ---- plugins -----------------------------------------------------------

type pulumiPluginJSON struct {
	Resource bool   `json:"resource"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Server   string `json:"server"`
}

type packageJSON struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Pulumi       pulumiPluginJSON  `json:"pulumi"`
	Dependencies map[string]string `json:"dependencies"`
	DevDeps      map[string]string `json:"devDependencies"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

// findNodeModules walks up from dir to the nearest node_modules folder.
func findNodeModules(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		nm := filepath.Join(d, "node_modules")
		if st, err := os.Stat(nm); err == nil && st.IsDir() {
			return nm
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// installedPackages lists the top-level packages (including @scope/pkg) of node_modules.
func installedPackages(nm string) map[string]*packageJSON {
	out := map[string]*packageJSON{}
	entries, err := os.ReadDir(nm)
	if err != nil {
		return out
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if strings.HasPrefix(name, "@") {
			sub, err := os.ReadDir(filepath.Join(nm, name))
			if err != nil {
				continue
			}
			for _, s := range sub {
				if p, err := readPackageJSON(filepath.Join(nm, name, s.Name(), "package.json")); err == nil {
					out[name+"/"+s.Name()] = p
				}
			}
			continue
		}
		if p, err := readPackageJSON(filepath.Join(nm, name, "package.json")); err == nil {
			out[name] = p
		}
	}
	return out
}

func pluginFor(p *packageJSON) (name, ver, server string, ok bool) {
	if !p.Pulumi.Resource {
		return "", "", "", false
	}
	name = p.Pulumi.Name
	if name == "" {
		name = p.Name
		if strings.HasPrefix(name, "@pulumi/") {
			name = strings.TrimPrefix(name, "@pulumi/")
		} else {
			name = strings.TrimPrefix(name, "@")
		}
	}
	ver = p.Pulumi.Version
	if ver == "" {
		ver = p.Version
	}
	if ver != "" && !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	return name, ver, p.Pulumi.Server, name != ""
}

func (h *host) requiredPlugins(dir string) []*pulumirpc.PluginDependency {
	var deps []*pulumirpc.PluginDependency
	nm := findNodeModules(dir)
	if nm == "" {
		return deps
	}
	pkgs := installedPackages(nm)
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if name, ver, server, ok := pluginFor(pkgs[n]); ok {
			deps = append(deps, &pulumirpc.PluginDependency{Name: name, Kind: "resource", Version: ver, Server: server})
		}
	}
	return deps
}

func (h *host) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{
		Plugins: h.requiredPlugins(programDir(req.GetInfo(), req.GetPwd())),
	}, nil
}

func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	var pkgs []*pulumirpc.PackageDependency
	for _, p := range h.requiredPlugins(programDir(req.GetInfo(), "")) {
		pkgs = append(pkgs, &pulumirpc.PackageDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

// ---- about / dependencies ----------------------------------------------

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("could not find node on the $PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *host) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd())
	var deps []*pulumirpc.DependencyInfo
	nm := findNodeModules(dir)
	if nm == "" {
		return &pulumirpc.GetProgramDependenciesResponse{}, nil
	}
	pkgs := installedPackages(nm)
	wanted := map[string]bool{}
	if !req.GetTransitiveDependencies() {
		if root, err := readPackageJSON(filepath.Join(filepath.Dir(nm), "package.json")); err == nil {
			for n := range root.Dependencies {
				wanted[n] = true
			}
			for n := range root.DevDeps {
				wanted[n] = true
			}
		}
	}
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		if req.GetTransitiveDependencies() || wanted[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: pkgs[n].Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// ---- run ---------------------------------------------------------------

// locateRunScript resolves @pulumi/pulumi/cmd/run from the program directory.
func locateRunScript(node, dir string) (string, error) {
	if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		return p, nil
	}
	cmd := exec.Command(node, "-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run'))")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("it looks like the Pulumi SDK has not been installed in %s "+
			"(could not resolve @pulumi/pulumi/cmd/run; run npm install): %v %s", dir, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	opts := parseOptions(info.GetOptions())

	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH"}, nil
	}
	runPath, err := locateRunScript(node, dir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	if req.GetMonitorAddress() != "" {
		args = append(args, "--monitor="+req.GetMonitorAddress())
	}
	if h.engineAddress != "" {
		args = append(args, "--engine="+h.engineAddress)
	}
	if req.GetOrganization() != "" {
		args = append(args, "--organization="+req.GetOrganization())
	}
	if req.GetProject() != "" {
		args = append(args, "--project="+req.GetProject())
	}
	if info.GetRootDirectory() != "" {
		args = append(args, "--root-directory="+info.GetRootDirectory())
	}
	if req.GetStack() != "" {
		args = append(args, "--stack="+req.GetStack())
	}
	args = append(args, "--pwd="+dir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		args = append(args, "--parallel="+strconv.Itoa(int(req.GetParallel())))
	}
	entry := "."
	if info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	} else if req.GetProgram() != "" {
		entry = req.GetProgram()
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env := os.Environ()
	cfg, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	env = append(env, "PULUMI_CONFIG="+string(cfg))
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	sk, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env = append(env, "PULUMI_CONFIG_SECRET_KEYS="+string(sk))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code := exitErr.ExitCode()
			if code == nodeExitedAfterUserMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}
GO_EOF
}

# The stamp ties the binaries to the CLI version and to the embedded language host source.
stamp_value() { printf '%s %s\n' "$PULUMI_CLI_VERSION" "$(langhost_source | sha256sum | cut -d' ' -f1)"; }
STAMP="$BIN/.setup-pulumi.stamp"

is_current() { # is_current DIR: the three binaries are there, built from this version and host source
  local dir="${1:-$BIN}"
  [ -x "$dir/pulumi" ] && [ -x "$dir/pulumi-language-nodejs" ] && [ -x "$dir/pulumi-resource-pulumi-nodejs" ] || return 1
  [ "$(cat "$dir/.setup-pulumi.stamp" 2>/dev/null)" = "$(stamp_value)" ] || return 1
  [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$dir/pulumi" version 2>/dev/null | head -n1)" = "$PULUMI_CLI_VERSION" ] || return 1
}

if [ "${PULUMI_SETUP_FORCE:-}" != "1" ] && is_current; then
  log "pulumi $PULUMI_CLI_VERSION is ready in $BIN"
  exit 0
fi
# Built before on this machine (another clone, or CI's fresh clone): copy, don't rebuild.
if [ "${PULUMI_SETUP_FORCE:-}" != "1" ] && is_current "$CACHED_BIN"; then
  mkdir -p "$BIN"
  cp -p "$CACHED_BIN/pulumi" "$CACHED_BIN/pulumi-language-nodejs" "$CACHED_BIN/pulumi-resource-pulumi-nodejs" "$CACHED_BIN/.setup-pulumi.stamp" "$BIN/"
  log "pulumi $PULUMI_CLI_VERSION copied from the machine cache $CACHED_BIN into $BIN"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------
# 1. Go toolchain and project-local Go caches.
log "step 1/6: checking Go"
command -v go >/dev/null 2>&1 || { [ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"; } \
  || die "step 1 (Go): 'go' is not on PATH and /usr/local/go/bin/go does not exist"
command -v go >/dev/null 2>&1 || die "step 1 (Go): 'go' is not on PATH"
export GOPATH="$CACHE/go"
export GOMODCACHE="$CACHE/go/pkg/mod"
export GOCACHE="$CACHE/go/cache"
export GOFLAGS="-mod=mod -buildvcs=false"   # replaces the user's GOFLAGS; the wrapper module sits inside the clone's git tree
export CGO_ENABLED=0
unset GOOS GOARCH GOWORK 2>/dev/null || true
export GOWORK=off
mkdir -p "$GOMODCACHE" "$GOCACHE" "$BIN" "$SRC"
GO_LOCAL_VERSION="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null)" || die "step 1 (Go): 'go env GOVERSION' failed"
log "  go: $(command -v go) ($GO_LOCAL_VERSION)"

# ---------------------------------------------------------------------------------------------------
# 2. Fetch pkg/v3 and read its go.mod (go version, sdk/v3 version, replace directives).
PKG_MOD="github.com/pulumi/pulumi/pkg/v3"
SDK_MOD="github.com/pulumi/pulumi/sdk/v3"
log "step 2/6: downloading $PKG_MOD@$PULUMI_CLI_VERSION (go mod download)"
dl_json="$(cd "$SRC" && GOTOOLCHAIN=local go mod download -json "$PKG_MOD@$PULUMI_CLI_VERSION" 2>&1)" || true
pkg_gomod="$(printf '%s\n' "$dl_json" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' | head -n1)"
pkg_dir="$(printf '%s\n' "$dl_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1)"
if [ -z "$pkg_dir" ] || [ ! -f "$pkg_gomod" ]; then
  printf '%s\n' "$dl_json" >&2
  die "step 2 (download): could not download $PKG_MOD@$PULUMI_CLI_VERSION from the Go module proxy (see above)"
fi
go_req="$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$pkg_gomod" | head -n1)"
sdk_req="$(grep -E "^[[:space:]]*$SDK_MOD v" "$pkg_gomod" | awk '{print $2}' | head -n1)"
[ -n "$sdk_req" ] || die "step 2 (download): $pkg_gomod does not require $SDK_MOD"
# Non-local replace directives (local ones point into pulumi's own repo checkout and are replaced
# by the real sdk/v3 module version pkg/v3 requires).
replaces="$(awk '
  /^replace[[:space:]]*\($/ { inblock=1; next }
  inblock && /^\)/ { inblock=0; next }
  inblock { print; next }
  /^replace[[:space:]]/ { sub(/^replace[[:space:]]+/, ""); print }
' "$pkg_gomod" | sed 's://.*$::' | awk 'NF && $0 ~ /=>/ { split($0, p, "=>"); t=p[2]; gsub(/^[[:space:]]+/, "", t); if (t !~ /^(\.|\/)/) print }')"
if version_ge "${GO_LOCAL_VERSION#go}" "$go_req"; then
  export GOTOOLCHAIN=local
else
  export GOTOOLCHAIN=auto   # fetches go$go_req from the module proxy
  log "  local Go $GO_LOCAL_VERSION is older than the required go $go_req: using GOTOOLCHAIN=auto"
fi
log "  pkg/v3 needs go $go_req and $SDK_MOD $sdk_req; copied replace directives: $(printf '%s' "$replaces" | grep -c . || true)"

# ---------------------------------------------------------------------------------------------------
# 3. The wrapper module.
log "step 3/6: writing the wrapper module in ${SRC#$ROOT/}"
write_if_changed() { # write_if_changed FILE (content on stdin)
  local tmp; tmp="$(mktemp)"; cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}
{
  printf 'module local/pulumi-toolchain/cli\n\ngo %s\n\n' "$go_req"
  printf 'require (\n\t%s %s\n\t%s %s\n)\n\n' "$PKG_MOD" "$PULUMI_CLI_VERSION" "$SDK_MOD" "$sdk_req"
  if [ -n "$replaces" ]; then printf 'replace (\n'; printf '%s\n' "$replaces" | sed 's/^[[:space:]]*/\t/'; printf ')\n\n'; fi
  printf 'tool %s/cmd/pulumi\n' "$PKG_MOD"
} > "$SRC/go.mod.want"
# Keep go.mod/go.sum (already tidied) when the wanted header has not changed.
if ! cmp -s "$SRC/go.mod.want" "$SRC/go.mod.base" || [ ! -f "$SRC/go.mod" ]; then
  cp "$SRC/go.mod.want" "$SRC/go.mod"
  cp "$SRC/go.mod.want" "$SRC/go.mod.base"
  rm -f "$SRC/go.sum"
fi
rm -f "$SRC/go.mod.want"
mkdir -p "$SRC/langhost"
langhost_source | write_if_changed "$SRC/langhost/main.go"

log "step 4/6: resolving dependencies (go mod tidy; the first run downloads ~300 modules)"
( cd "$SRC" && go mod tidy ) >"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "step 4 (go mod tidy) failed: full log in $LOG"; }

# ---------------------------------------------------------------------------------------------------
# 5. Build. Runs in the background with a heartbeat, so long builds show progress.
LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_CLI_VERSION"
build_bg() { # build_bg WHAT OUTPUT PACKAGE
  local what="$1" out="$2" pkg="$3" start pid rc
  start=$(date +%s)
  log "step 5/6: building $what (the first build takes 10-20 minutes on 2 cores; log: $LOG)"
  ( cd "$SRC" && exec go build -trimpath -ldflags "$LDFLAGS" -o "$out.tmp" "$pkg" ) >>"$LOG" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if kill -0 "$pid" 2>/dev/null && [ $(( ($(date +%s) - start) % 60 )) -lt 5 ]; then
      log "  ... still building $what ($(( $(date +%s) - start ))s)"
    fi
  done
  rc=0; wait "$pid" || rc=$?
  trap - EXIT INT TERM
  if [ "$rc" != 0 ]; then
    tail -n 40 "$LOG" >&2
    die "step 5 (go build $what) failed with exit code $rc: full log in $LOG"
  fi
  mv -f "$out.tmp" "$out"
  log "  built $what in $(( $(date +%s) - start ))s"
}
rm -f "$STAMP"
build_bg "pulumi CLI $PULUMI_CLI_VERSION" "$BIN/pulumi" "$PKG_MOD/cmd/pulumi"
build_bg "pulumi-language-nodejs" "$BIN/pulumi-language-nodejs" "./langhost"

# The dynamic-provider shim, from the sdk/v3 module (same file @pulumi/pulumi ships at its root).
sdk_dir="$(cd "$SRC" && go list -m -f '{{.Dir}}' "$SDK_MOD")" || die "step 5 (shim): could not locate $SDK_MOD in the module cache"
shim="$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs"
[ -f "$shim" ] || die "step 5 (shim): $shim not found"
install -m 0755 "$shim" "$BIN/pulumi-resource-pulumi-nodejs"

# ---------------------------------------------------------------------------------------------------
# 6. Verify.
log "step 6/6: verifying"
got="$(PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" version 2>&1 | head -n1)" || die "step 6 (verify): '$BIN/pulumi version' failed: $got"
[ "$got" = "$PULUMI_CLI_VERSION" ] || die "step 6 (verify): '$BIN/pulumi version' printed '$got', expected $PULUMI_CLI_VERSION"
# The language host must start and print the port of its gRPC server.
out="$(mktemp)"
"$BIN/pulumi-language-nodejs" 127.0.0.1:1 >"$out" 2>&1 &
lh=$!
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
kill "$lh" 2>/dev/null || true; wait "$lh" 2>/dev/null || true
port="$(head -n1 "$out")"; rm -f "$out"
case "$port" in ''|*[!0-9]*) die "step 6 (verify): pulumi-language-nodejs did not start (printed '$port')";; esac
stamp_value > "$STAMP"
mkdir -p "$CACHED_BIN"
cp -p "$BIN/pulumi" "$BIN/pulumi-language-nodejs" "$BIN/pulumi-resource-pulumi-nodejs" "$STAMP" "$CACHED_BIN/"
log "pulumi $got ready in $BIN (add it to PATH; set PULUMI_SKIP_UPDATE_CHECK=true to stay offline)"
