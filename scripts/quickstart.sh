#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing, builds the release
# preset, starts weft-server in the background with its embedded PostgreSQL (unless one is
# already serving), runs the example flow against it, deploys the taxi pipeline, starts an
# agent on its work queue and runs the deployment through it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

BIN=$PWD/build/release
WEFT=$BIN/cli/weft
export WEFT_API_URL=${WEFT_API_URL:-127.0.0.1:4201}
if [ -z "${WEFT_HOME:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then WEFT_HOME=/var/lib/weft; else WEFT_HOME=$HOME/.weft; fi
fi
export WEFT_HOME
mkdir -p "$WEFT_HOME"
LOG=$WEFT_HOME/server.log

# A weft-server started by an earlier run of this script whose binary has since been
# rebuilt (the running process's executable shows as deleted) is restarted, so the server
# always matches the CLI that was just built.
old_pid=$(pgrep -f "^$BIN/server/weft-server" | head -n1 || true)
if [ -n "$old_pid" ] && readlink "/proc/$old_pid/exe" 2>/dev/null | grep -q '(deleted)$'; then
  echo "restarting weft-server (pid $old_pid): it was rebuilt"
  kill "$old_pid"
  for _ in $(seq 1 60); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.5; done
fi

if "$WEFT" version 2>/dev/null | grep -q '^server '; then
  echo "weft-server is already serving at $WEFT_API_URL"
else
  echo "starting weft-server (embedded PostgreSQL under $WEFT_HOME; log: $LOG)"
  nohup setsid "$BIN/server/weft-server" --grpc-address "$WEFT_API_URL" --home "$WEFT_HOME" \
    >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    grep -q "weft-server ready" "$LOG" 2>/dev/null && break
    if ! kill -0 $! 2>/dev/null; then
      echo "error: weft-server exited; its log:" >&2
      cat "$LOG" >&2
      exit 1
    fi
    sleep 0.5
  done
  grep -q "weft-server ready" "$LOG" || { echo "error: weft-server did not become ready; see $LOG" >&2; exit 1; }
fi

echo
echo "running the example flow (examples/hello_flow) against $WEFT_API_URL"
"$BIN/examples/hello_flow/hello_flow" --param name=quickstart
echo
"$WEFT" flow-run ls --limit 5

echo
echo "creating the taxi pipeline's weekly deployment from the program's own declaration"
"$WEFT" deployment create "$BIN/examples/taxi_training/taxi_training"
echo
"$WEFT" deployment upcoming taxi_training/weekly --limit 3

echo
echo "the deployment's runs go to work queue \"ml\"; what it would hand out in the next 30 days:"
"$WEFT" work-queue inspect ml >/dev/null 2>&1 ||
  "$WEFT" work-queue create ml --description "the taxi pipeline's runs" >/dev/null
"$WEFT" work-queue preview ml --hours 720
echo
echo "its code bundle is kept in the server's built-in storage:"
"$WEFT" storage ls
echo
# An agent serving queue "ml", in the background (restarted when its binary was rebuilt).
AGENT_LOG=$WEFT_HOME/agent.log
agent_pid=$(pgrep -f "^$BIN/agent/weft-agent" | head -n1 || true)
if [ -n "$agent_pid" ] && readlink "/proc/$agent_pid/exe" 2>/dev/null | grep -q '(deleted)$'; then
  echo "restarting weft-agent (pid $agent_pid): it was rebuilt"
  kill "$agent_pid"
  for _ in $(seq 1 60); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.5; done
  agent_pid=""
fi
if [ -n "$agent_pid" ]; then
  echo "weft-agent is already running (pid $agent_pid; log: $AGENT_LOG)"
else
  echo "starting weft-agent on work queue ml (log: $AGENT_LOG)"
  nohup setsid "$BIN/agent/weft-agent" -q ml --name quickstart-agent >"$AGENT_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    grep -q "weft-agent ready" "$AGENT_LOG" 2>/dev/null && break
    sleep 0.5
  done
  grep -q "weft-agent ready" "$AGENT_LOG" || { echo "error: weft-agent did not become ready; see $AGENT_LOG" >&2; exit 1; }
fi
"$WEFT" agent ls
echo
echo "running the taxi deployment now; the agent fetches its bundle and starts it:"
mkdir -p "$WEFT_HOME/taxi"
run_json=$("$WEFT" deployment run taxi_training/weekly --param "model_path=$WEFT_HOME/taxi/model.txt" --output json)
run_id=$(printf '%s\n' "$run_json" | sed -n 's/^ *"id": *"\([0-9a-f-]*\)".*/\1/p' | head -n1)
[ -n "$run_id" ] || { echo "error: could not read the run id from: $run_json" >&2; exit 1; }
"$WEFT" flow-run wait "$run_id" --timeout 5m
echo
"$WEFT" flow-run inspect "$run_id"
# The dashboard's address, from the server's ready line (http=ADDR).
DASHBOARD=$(sed -n 's/^weft-server ready .*http=\([^ ]*\).*/\1/p' "$LOG" 2>/dev/null | tail -n1)
DASHBOARD=${DASHBOARD:-${WEFT_SERVER_HTTP_ADDRESS:-127.0.0.1:4200}}
cat <<NEXT

Weft is running. The dashboard: http://$DASHBOARD
(log in with the key in $WEFT_HOME/admin.key)
(flow runs with their task timelines and logs, deployments, work queues and agents). Next:
  export PATH=$BIN/cli:$BIN/server:$BIN/agent:\$PATH
  weft flow-run ls                      # runs, newest first
  weft flow-run inspect <ID>            # a run's state history and its task runs
  weft task-run ls --flow-run <ID>
  weft orchestration rules              # the rule chain every state change goes through
  weft deployment ls                    # deployments; their runs: weft flow-run ls --state Scheduled
  weft deployment run taxi_training/weekly --param months=3
  weft work-queue ls                    # queues; weft work-queue preview ml --hours 720
  weft agent ls                         # agents and when each last polled
  weft flow-run cancel <ID>             # a running run: its agent stops the process
  $BIN/examples/taxi_training/taxi_training --param months=2   # the seed's ML pipeline
  weft config view
Stop them with: pkill -f weft-agent; pkill -f weft-server   (the server stops its PostgreSQL too)
NEXT
