#!/usr/bin/env bash
# Runs the demo: a fake Keboola stack (keboola-dev-stack) and an OAuth-protected
# `keboola-mcp serve` in front of it, then prints what to paste into an MCP
# client. Ctrl-C stops both.
#
# Usage: scripts/run-demo.sh BINARY DEV_STACK_PORT SERVE_ADDR
#   e.g. scripts/run-demo.sh bin/keboola-mcp 8765 127.0.0.1:8000   (make run)
set -euo pipefail

bin=${1:?usage: run-demo.sh BINARY DEV_STACK_PORT SERVE_ADDR}
port=${2:?usage: run-demo.sh BINARY DEV_STACK_PORT SERVE_ADDR}
addr=${3:?usage: run-demo.sh BINARY DEV_STACK_PORT SERVE_ADDR}
# The fake stack is its own binary (DuckDB needs cgo), built next to keboola-mcp.
dev_stack_bin=$(dirname "$bin")/keboola-dev-stack

dir=$(mktemp -d "${TMPDIR:-/tmp}/keboola-mcp-demo.XXXXXX")
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
  rm -rf "$dir"
}
trap cleanup INT TERM EXIT

# The fake stack also plays Keboola's OAuth server for "Sign in with Keboola".
oauth_id=keboola-mcp-demo
oauth_secret=demo-oauth-secret
"$dev_stack_bin" --addr "127.0.0.1:$port" --oauth-client "$oauth_id:$oauth_secret" >"$dir/stack.out" 2>"$dir/stack.log" &
stack_pid=$!

stack_url="" token=""
for _ in $(seq 1 100); do
  stack_url=$(sed -n 's/^KBC_STORAGE_API_URL=//p' "$dir/stack.out")
  token=$(sed -n 's/^KBC_STORAGE_TOKEN=//p' "$dir/stack.out")
  [ -n "$stack_url" ] && [ -n "$token" ] && break
  kill -0 "$stack_pid" 2>/dev/null || { cat "$dir/stack.log" >&2; echo "dev-stack failed to start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$token" ] || { echo "dev-stack did not print its URL and token" >&2; exit 1; }

KBC_OAUTH_CLIENT_ID=$oauth_id KBC_OAUTH_CLIENT_SECRET=$oauth_secret \
  "$bin" serve --addr "$addr" --stack "$stack_url" --store "sqlite:$dir/keboola-mcp.db" 2>"$dir/serve.log" &
serve_pid=$!

for _ in $(seq 1 100); do
  if curl -fsS "http://$addr/healthz" >/dev/null 2>&1; then break; fi
  kill -0 "$serve_pid" 2>/dev/null || { cat "$dir/serve.log" >&2; echo "serve failed to start" >&2; exit 1; }
  sleep 0.1
done

cat <<MSG

  Keboola MCP demo is running (fake Keboola stack, OAuth-protected server).

  MCP server URL (paste into your MCP client):   http://$addr/mcp

  On the login page that opens, choose the stack $stack_url
  and paste this Storage API token:              $token
  (or press "Sign in with Keboola" and paste the same token at the fake stack)

  Logs: $dir/serve.log and $dir/stack.log
  Press Ctrl-C to stop.

MSG
wait "$serve_pid"
