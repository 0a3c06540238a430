#!/usr/bin/env bash
# Runs `node <args>` under Node.js >= 22 (provisioned by ensure-node.sh when the machine has less),
# so every npm script works from a plain shell on a Node 20 machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/ensure-node.sh"
exec node "$@"
