# Sourced by ci.sh and bench.sh: `plowline_up_start` starts a real pipeline (`plowline up`) on a
# free loopback port in the background and `plowline_up_wait` sets PLOWLINE_URL once it answers.
# An EXIT trap stops it. No fixed timing window: we wait until it prints its URL and its API
# answers, or fail as soon as the process dies (or after 5 minutes).
plowline_up_start() {
  local root="$1"
  PLOWLINE_UP_LOG="$(mktemp)"
  # Its own process group (setsid), so the EXIT trap stops uv and the server it started.
  (cd "$root" && exec setsid uv run --frozen plowline up --host 127.0.0.1 --port 0) >"$PLOWLINE_UP_LOG" 2>&1 &
  PLOWLINE_UP_PID=$!
  trap plowline_up_stop EXIT
}

plowline_up_stop() {
  kill -TERM -- "-$PLOWLINE_UP_PID" 2>/dev/null || kill "$PLOWLINE_UP_PID" 2>/dev/null || true
  wait "$PLOWLINE_UP_PID" 2>/dev/null || true
  rm -f "$PLOWLINE_UP_LOG"
}

plowline_up_wait() {
  PLOWLINE_URL=""
  local deadline=$(( $(date +%s) + 300 ))
  while (( $(date +%s) < deadline )); do
    if ! kill -0 "$PLOWLINE_UP_PID" 2>/dev/null; then
      echo "plowline up exited before it was ready:" >&2
      cat "$PLOWLINE_UP_LOG" >&2
      return 1
    fi
    if [[ -z "$PLOWLINE_URL" ]]; then
      PLOWLINE_URL="$(grep -o 'collector http://[0-9.:]*' "$PLOWLINE_UP_LOG" | head -1 | cut -d' ' -f2 || true)"
    fi
    if [[ -n "$PLOWLINE_URL" ]] && curl -fsS "$PLOWLINE_URL/micro/all" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  echo "plowline up was not ready within 5 minutes:" >&2
  cat "$PLOWLINE_UP_LOG" >&2
  return 1
}
