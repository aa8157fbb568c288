#!/usr/bin/env bash
# Runs the demo: a fake Keboola stack (keboola-dev-stack) and an OAuth-protected
# `keboola-mcp serve` in front of it, then prints what to paste into an MCP
# client. Ctrl-C stops both.
#
# State lives in STATE_DIR (default .demo/ in the checkout, gitignored): the
# server's database and secret, the demo Storage token and the logs. So a
# second `make run` serves the same token to the same stack URL, and clients
# that logged in before stay logged in. Delete the directory to start afresh.
#
# Usage: scripts/run-demo.sh BINARY DEV_STACK_PORT SERVE_ADDR [STATE_DIR]
#   e.g. scripts/run-demo.sh bin/keboola-mcp 8765 127.0.0.1:8000   (make run)
# DEMO_BACKEND (snowflake by default, or bigquery) is the demo project's SQL
# backend, the dialect query_data speaks.
set -euo pipefail

usage="usage: run-demo.sh BINARY DEV_STACK_PORT SERVE_ADDR [STATE_DIR]"
bin=${1:?$usage}
port=${2:?$usage}
addr=${3:?$usage}
state=${4:-"$(cd "$(dirname "$0")/.." && pwd)/.demo"}
# The fake stack is its own binary (DuckDB needs cgo), built next to keboola-mcp.
dev_stack_bin=$(dirname "$bin")/keboola-dev-stack

mkdir -p "$state"
chmod 700 "$state"
stack_log="$state/stack.log" serve_log="$state/serve.log"

# A port someone else holds would make the banner below describe their
# server: refuse to start instead.
port_taken() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
for a in "127.0.0.1:$port" "$addr"; do
  if port_taken "$a"; then
    echo "run-demo: $a is already in use (another 'make run'?). Stop what holds it, or choose other ports:" >&2
    echo "  make run DEV_PORT=8766 MCP_ADDR=127.0.0.1:8001" >&2
    exit 1
  fi
done

# One demo Storage token per state directory, so grants stored by the server
# (they hold this token) stay valid across restarts of the in-memory stack.
token_file="$state/storage-token"
if [ ! -s "$token_file" ]; then
  (umask 077; printf 'demo-%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$token_file")
fi
token=$(cat "$token_file")

stack_pid=""
serve_pid=""
cleanup() {
  trap - INT TERM EXIT
  for pid in $serve_pid $stack_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $serve_pid $stack_pid; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup INT TERM EXIT

# The fake stack also plays Keboola's OAuth server for "Sign in with Keboola".
oauth_id=keboola-mcp-demo
oauth_secret=demo-oauth-secret
: >"$stack_log"
"$dev_stack_bin" --addr "127.0.0.1:$port" --token "$token" --oauth-client "$oauth_id:$oauth_secret" \
  --backend "${DEMO_BACKEND:-snowflake}" >"$state/stack.out" 2>"$stack_log" &
stack_pid=$!

stack_url=""
for _ in $(seq 1 100); do
  stack_url=$(sed -n 's/^KBC_STORAGE_API_URL=//p' "$state/stack.out")
  [ -n "$stack_url" ] && break
  kill -0 "$stack_pid" 2>/dev/null || { cat "$stack_log" >&2; echo "run-demo: dev-stack failed to start (log: $stack_log)" >&2; exit 1; }
  sleep 0.1
done
[ -n "$stack_url" ] || { echo "run-demo: dev-stack did not print its URL (log: $stack_log)" >&2; exit 1; }

# serve keeps its secret beside the database (it generates one on loopback).
: >"$serve_log"
KBC_OAUTH_CLIENT_ID=$oauth_id KBC_OAUTH_CLIENT_SECRET=$oauth_secret \
  "$bin" serve --addr "$addr" --stack "$stack_url" --store "sqlite:$state/keboola-mcp.db" 2>"$serve_log" &
serve_pid=$!

# Ready when this process says it listens, not when anything answers.
for _ in $(seq 1 100); do
  if grep -q 'msg="serving MCP"' "$serve_log"; then break; fi
  kill -0 "$serve_pid" 2>/dev/null || { cat "$serve_log" >&2; echo "run-demo: serve failed to start (log: $serve_log)" >&2; exit 1; }
  sleep 0.1
done
grep -q 'msg="serving MCP"' "$serve_log" || { echo "run-demo: serve did not start listening (log: $serve_log)" >&2; exit 1; }
curl -fsS "http://$addr/healthz" >/dev/null || { echo "run-demo: serve does not answer on $addr (log: $serve_log)" >&2; exit 1; }

cat <<MSG

  Keboola MCP demo is running (fake Keboola stack, OAuth-protected server).

  MCP server URL (paste into your MCP client):   http://$addr/mcp

  Try it with a client, in another terminal:
    npx @modelcontextprotocol/inspector
        then Transport "Streamable HTTP", the URL above, Connect
    npx mcp-remote http://$addr/mcp
        a stdio bridge, as desktop clients start it

  On the login page that opens, choose the stack $stack_url
  and paste this Storage API token:              $token
  (or press "Sign in with Keboola" and paste the same token at the fake stack)

  Logins survive a restart of 'make run'; delete $state to start afresh.
  Logs: $serve_log and $stack_log
  Press Ctrl-C to stop.

MSG
wait "$serve_pid"
