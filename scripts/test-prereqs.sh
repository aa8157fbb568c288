#!/usr/bin/env bash
# Checks what `make test` needs besides Go: Node 20+ and npm (Worker and
# end-to-end suites), chromium (the e2e browser tests), PostgreSQL and Redis
# (the store suites start throwaway servers from their binaries). As root on
# Debian it installs the missing system packages, as .ci/run does; otherwise
# it stops at once and says exactly what to install.
#
# KEBOOLA_MCP_NO_INSTALL=1 never installs, only reports.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

packages=()
chromium=${E2E_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || packages+=(chromium)
postgres_found=""
if have initdb && have postgres; then
  postgres_found=yes
else
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then postgres_found=yes; fi
  done
fi
[ -n "$postgres_found" ] || packages+=(postgresql)
have redis-server || packages+=(redis-server)

problems=()
if ! have node || ! have npm; then
  problems+=("Node.js 20 or newer with npm: https://nodejs.org/en/download (Debian 13: apt-get install nodejs npm)")
elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  problems+=("Node.js 20 or newer (found $(node --version)): https://nodejs.org/en/download")
fi

if [ ${#packages[@]} -gt 0 ]; then
  if [ "${KEBOOLA_MCP_NO_INSTALL:-}" != 1 ] && [ "$(id -u)" = 0 ] && have apt-get; then
    echo "make test: installing ${packages[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    problems+=("${packages[*]}: sudo apt-get install -y ${packages[*]}")
  fi
fi

if [ ${#problems[@]} -gt 0 ]; then
  echo "make test cannot run yet; install:" >&2
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  exit 1
fi
