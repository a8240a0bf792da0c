#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler v1.20.2 for tiermix's Kubernetes tests.
#
# There is no binary kube-apiserver package in Debian and no way to download upstream binaries here, so we build
# them from Debian bookworm's `kubernetes` source package (the full upstream tree with vendor/) with Debian's Go.
# Everything goes to a cache outside the repository:
#   ${TIERMIX_CACHE_DIR:-$HOME/.cache/tiermix}/k8s-v1.20.2/{bin,src,apt,home,build.log}
# Idempotent: when the three binaries are there and say v1.20.2 (and etcd is installed), it does nothing.
# Needs root (or the build dependencies already installed) and deb.debian.org; the Go build itself is offline.
set -euo pipefail

K8S_VERSION=v1.20.2
DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
K8S_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler)
BUILD_DEPS=(golang-go etcd-server rsync dpkg-dev golang-github-modern-go-reflect2-dev make)
REFLECT2_DIR=/usr/share/gocode/src/github.com/modern-go/reflect2

CACHE_DIR="${TIERMIX_CACHE_DIR:-$HOME/.cache/tiermix}"
ROOT="$CACHE_DIR/k8s-$K8S_VERSION"
BIN="$ROOT/bin"
SRC="$ROOT/src"
APT_DIR="$ROOT/apt"
LOG="$ROOT/build.log"

START=$SECONDS
step() { printf '[k8s-binaries +%3ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '[k8s-binaries +%3ds] ERROR: %s\n' "$((SECONDS - START))" "$*" >&2; exit 1; }

binaries_ok() {
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "$BIN/$b" ]] || return 1
    "$BIN/$b" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION" || return 1
  done
}

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$p"
  done
}

apt_install() {
  local missing
  missing=$(missing_packages "$@")
  [[ -z "$missing" ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: $missing(install them as root: apt-get install -y --no-install-recommends $missing)"
  fi
  step "apt-get update (system sources)"
  DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update >>"$LOG" 2>&1 ||
    { tail -20 "$LOG" >&2; die "apt-get update failed (log: $LOG)"; }
  step "apt-get install $missing"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends $missing \
    >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; die "apt-get install failed (log: $LOG)"; }
}

mkdir -p "$ROOT"
: >>"$LOG"

# Fast path, without the lock: nothing to do.
if binaries_ok && [[ -z $(missing_packages etcd-server) ]]; then
  step "up to date: $BIN ($K8S_VERSION), etcd $(command -v etcd)"
  exit 0
fi

# One build at a time (a second `make test` waits for the first build instead of starting another).
exec 9>"$ROOT/.build.lock"
if ! flock -n 9; then
  step "another build holds $ROOT/.build.lock; waiting for it"
  flock 9
fi

if binaries_ok; then
  apt_install etcd-server
  step "up to date: $BIN ($K8S_VERSION), etcd $(command -v etcd)"
  exit 0
fi

step "building kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION into $BIN (cold build: about 7 min on 2 cores; log: $LOG)"
echo "=== build started $(date -Is)" >>"$LOG"

# 1. Build dependencies (and etcd, which the tests run).
apt_install "${BUILD_DEPS[@]}"
[[ -d "$REFLECT2_DIR" ]] || die "$REFLECT2_DIR missing (package golang-github-modern-go-reflect2-dev)"
step "go: $(go version)"

# 2. deb-src through a private apt configuration; the system's sources and lists stay untouched.
mkdir -p "$SRC" "$BIN" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
cat >"$APT_DIR/sources.list" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
APTX=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
      -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache")

# 3. The source package, unpacked with the Debian patches applied.
DSC="kubernetes_${DEB_VERSION#*:}.dsc"
if [[ ! -f "$SRC/$DSC" || ! -f "$SRC/.download-complete" ]]; then
  step "apt-get update (private deb-src config in $APT_DIR)"
  apt-get -q "${APTX[@]}" update >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; die "deb-src update failed (log: $LOG)"; }
  step "downloading source package kubernetes=$DEB_VERSION (~35 MB)"
  rm -f "$SRC/.download-complete"
  (cd "$SRC" && apt-get -q "${APTX[@]}" source --download-only "kubernetes=$DEB_VERSION") >>"$LOG" 2>&1 ||
    { tail -20 "$LOG" >&2; die "source download failed (log: $LOG)"; }
  touch "$SRC/.download-complete"
fi

TREE="$SRC/k8s"
if [[ ! -f "$TREE/.tiermix-prepared" ]]; then
  step "unpacking the source (dpkg-source -x applies Debian's patches)"
  rm -rf "$TREE" "$SRC/k8s.tmp"
  (cd "$SRC" && dpkg-source -x "$DSC" k8s.tmp) >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; die "dpkg-source failed (log: $LOG)"; }

  # 4. Required: the vendored modern-go/reflect2 v1.0.1 crashes under Go >= 1.18 (SIGSEGV in
  # UnsafeMapType.UnsafeIterate as soon as a custom resource is written). Debian's 1.0.2 is API-compatible.
  step "swapping vendored modern-go/reflect2 v1.0.1 for Debian's 1.0.2"
  V="$SRC/k8s.tmp/vendor/github.com/modern-go/reflect2"
  [[ -d "$V" ]] || die "vendored reflect2 not found at $V"
  rm -f "$V"/*.go "$V"/*.s
  cp "$REFLECT2_DIR"/*.go "$V"/
  if compgen -G "$REFLECT2_DIR/*.s" >/dev/null; then cp "$REFLECT2_DIR"/*.s "$V"/; fi
  rm -f "$V"/*_test.go
  touch "$SRC/k8s.tmp/.tiermix-prepared"
  mv "$SRC/k8s.tmp" "$TREE"
fi

# 5. Offline static build through the upstream Makefile (it runs the code generators first), at the lowest CPU
# priority so it does not disturb other work on the machine.
# (The upstream build keeps its Go build cache in src/k8s/_output/local/go/cache, so a rebuild is incremental.)
export GOPROXY=off GOFLAGS= GO111MODULE= CGO_ENABLED=0 HOME="$ROOT/home"
export KUBE_GIT_VERSION=$K8S_VERSION KUBE_GIT_MAJOR=1 KUBE_GIT_MINOR=20 KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT=$K8S_COMMIT
mkdir -p "$HOME"
step "go build (nice -n 19, offline; generators first, then the three binaries)"
heartbeat() {
  local sleeper
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  while :; do
    sleep 30 & sleeper=$!
    wait "$sleeper"
    printf '[k8s-binaries +%3ds] ... still building (last stage: %s)\n' "$((SECONDS - START))" \
      "$(grep -E '^\+\+\+ ' "$LOG" | tail -1 | sed -E 's/^\+\+\+ \[[^]]*\] //' | cut -c1-80)"
  done
}
heartbeat 9>&- &   # must not hold the build lock
HEARTBEAT_PID=$!
trap 'kill "$HEARTBEAT_PID" 2>/dev/null || true' EXIT
if ! (cd "$TREE" && nice -n 19 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler") >>"$LOG" 2>&1; then
  tail -30 "$LOG" >&2
  die "go build failed (full log: $LOG)"
fi
kill "$HEARTBEAT_PID" 2>/dev/null || true
wait "$HEARTBEAT_PID" 2>/dev/null || true
trap - EXIT

# Install each binary atomically (copy, then rename) so a half-copied file never looks like a build.
for b in "${BINARIES[@]}"; do
  cp "$TREE/_output/bin/$b" "$BIN/.$b.tmp"
  mv -f "$BIN/.$b.tmp" "$BIN/$b"
done
binaries_ok || die "built binaries do not report $K8S_VERSION: $("$BIN/kube-apiserver" --version 2>&1 || true)"
step "done: $(cd "$BIN" && ls -l "${BINARIES[@]}" | awk '{printf "%s %d MB; ", $9, $5/1048576}')"
step "total $((SECONDS - START)) s"
