# Installs the tools Stratus builds and tests with, when missing or at the wrong version.
# Sourced by scripts/run.sh and scripts/test.sh. Every tool comes from a package registry
# (crates.io, npm, Debian); nothing is downloaded from anywhere else, and Trunk is pinned so it
# never tries to fetch its own tools.

set -euo pipefail

STRATUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Tools shared by every checkout on this machine (a fresh clone reuses them).
STRATUS_TOOLS_DIR="${STRATUS_TOOLS_DIR:-$HOME/.cache/stratus/tools}"
# Trunk 0.22 needs a newer rustc than this machine kind has.
TRUNK_VERSION="0.21.14"
# Debian's binaryen (108) breaks the wasm; the npm build of this version works.
BINARYEN_VERSION="132"
# The test OpenID provider (a certified implementation) from npm.
OIDC_PROVIDER_VERSION="9.13.3"

export PATH="$HOME/.cargo/bin:$STRATUS_TOOLS_DIR/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$STRATUS_ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
    say "Installing Trunk $TRUNK_VERSION from crates.io (several minutes, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
}

ensure_wasm_bindgen() {
  local version
  version="$(wasm_bindgen_version)"
  [ -n "$version" ] || { echo "wasm-bindgen is not in Cargo.lock" >&2; exit 1; }
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $version" ]; then
    say "Installing wasm-bindgen-cli $version from crates.io (a few minutes, once)"
    # Not --locked: the CLI's own lock pins a webpki-roots release the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$version" --force
  fi
  export TRUNK_TOOLS_WASM_BINDGEN="$version"
}

ensure_wasm_opt() {
  local bin="$STRATUS_TOOLS_DIR/node_modules/.bin/wasm-opt"
  if ! "$bin" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    say "Installing binaryen@$BINARYEN_VERSION (wasm-opt) from npm"
    command -v npm >/dev/null || { echo "npm is needed to install wasm-opt" >&2; exit 1; }
    mkdir -p "$STRATUS_TOOLS_DIR"
    npm install --prefix "$STRATUS_TOOLS_DIR" --no-audit --no-fund --silent \
      "binaryen@$BINARYEN_VERSION"
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "Installing Chromium and chromedriver from Debian's packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

# Everything Trunk needs, with dependencies fetched (Trunk runs cargo --offline).
ensure_web_toolchain() {
  ensure_wasm_target
  ensure_trunk
  ensure_wasm_bindgen
  ensure_wasm_opt
  (cd "$STRATUS_ROOT" && cargo fetch --locked --quiet)
}

# Builds the web app (release: small wasm, wasm-opt) into dist/.
build_web_app() {
  say "Building the web app into dist/"
  (cd "$STRATUS_ROOT" && trunk build --release)
}

# A real SMTP server for the tests: aiosmtpd from PyPI in a virtualenv of our own.
ensure_smtp_server() {
  local venv="$STRATUS_TOOLS_DIR/venv"
  if ! "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
    say "Installing aiosmtpd (test SMTP server) from PyPI"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
  fi
}

# Starts the test SMTP server on a free port, delivering into a Maildir; exports
# TEST_SMTP_PORT and TEST_MAILDIR for the tests and stops the server when the script exits.
start_smtp_server() {
  local venv="$STRATUS_TOOLS_DIR/venv"
  TEST_MAILDIR="$(mktemp -d)/maildir"
  TEST_SMTP_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$TEST_SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$TEST_MAILDIR" &
  SMTP_SERVER_PID=$!
  trap 'kill "${SMTP_SERVER_PID:-}" "${OIDC_PROVIDER_PID:-}" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $TEST_SMTP_PORT), 1)" 2>/dev/null; then
      export TEST_SMTP_PORT TEST_MAILDIR
      say "Test SMTP server on 127.0.0.1:$TEST_SMTP_PORT, mail in $TEST_MAILDIR"
      return 0
    fi
    sleep 0.1
  done
  echo "the test SMTP server did not start" >&2
  exit 1
}

# A real OpenID provider for the tests: oidc-provider from npm in a folder of its own (so it
# never disturbs the wasm-opt install), run by e2e/oidc/provider.mjs.
ensure_oidc_provider() {
  local dir="$STRATUS_TOOLS_DIR/oidc"
  local installed
  installed="$(node -p "require('$dir/node_modules/oidc-provider/package.json').version" 2>/dev/null || true)"
  if [ "$installed" != "$OIDC_PROVIDER_VERSION" ]; then
    say "Installing oidc-provider@$OIDC_PROVIDER_VERSION (test OpenID provider) from npm"
    command -v npm >/dev/null || { echo "npm is needed to install oidc-provider" >&2; exit 1; }
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "oidc-provider@$OIDC_PROVIDER_VERSION"
  fi
}

# Starts the test OpenID provider on a free port of 127.0.0.1; exports TEST_OIDC_ISSUER for
# the tests (which register a client per test server) and stops it when the script exits.
start_oidc_provider() {
  local log
  log="$(mktemp)"
  OIDC_PROVIDER_MODULE="$STRATUS_TOOLS_DIR/oidc/node_modules/oidc-provider/lib/index.js" PORT=0 \
    node "$STRATUS_ROOT/e2e/oidc/provider.mjs" >"$log" 2>&1 &
  OIDC_PROVIDER_PID=$!
  trap 'kill "${SMTP_SERVER_PID:-}" "${OIDC_PROVIDER_PID:-}" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    TEST_OIDC_ISSUER="$(sed -n 's/^oidc-provider listening on //p' "$log")"
    if [ -n "$TEST_OIDC_ISSUER" ]; then
      export TEST_OIDC_ISSUER
      say "Test OpenID provider at $TEST_OIDC_ISSUER"
      return 0
    fi
    sleep 0.1
  done
  cat "$log" >&2
  echo "the test OpenID provider did not start" >&2
  exit 1
}
