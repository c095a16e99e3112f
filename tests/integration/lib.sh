# Shared by the integration tests written in bash; sourced, not run.
#   need_tools TOOL...   a missing tool fails the test (exit 1), naming it
#   start_work NAME      WORK: a fresh /tmp/updraft-NAME-XXXXXX; PIDS: processes
#                        to stop. At exit both go (KEEP=1 keeps WORK, and says so)
#   wait_for SECONDS CMD...  runs CMD every WAIT_POLL seconds (0.2) until it
#                        succeeds; status 1 when SECONDS pass first

need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed"; exit 1; }
  done
}

start_work() {
  WORK=$(mktemp -d "/tmp/updraft-$1-XXXXXX")
  PIDS=()
  trap stop_work EXIT
}

stop_work() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${KEEP:-0} != 1 ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}

wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@"; do (( SECONDS < end )) || return 1; sleep "${WAIT_POLL:-0.2}"; done
}
