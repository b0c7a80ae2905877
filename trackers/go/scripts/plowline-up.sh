# Sourced by ci.sh and bench.sh. launch_plowline_up starts a real `plowline up` (collector,
# enricher, store) on a free port in its own process group, in the background (on a fresh
# clone, uv first builds the workspace: that overlaps with the Go steps); wait_plowline_up
# waits until its API answers and sets PLOWLINE_UP_URL. An EXIT trap stops that process
# group, and nothing else.
_up_pid=""
_up_log=""

_stop_plowline_up() {
  if [ -n "$_up_pid" ]; then
    kill -TERM -- "-$_up_pid" 2>/dev/null || true
    wait "$_up_pid" 2>/dev/null || true
    _up_pid=""
  fi
  [ -n "$_up_log" ] && rm -f "$_up_log"
}

launch_plowline_up() {
  local root="$1"
  _up_log="$(mktemp)"
  trap _stop_plowline_up EXIT
  (cd "$root" && exec setsid uv run --frozen plowline up --port 0) >"$_up_log" 2>&1 &
  _up_pid=$!
}

wait_plowline_up() {
  local url=""
  # Readiness by polling with a generous bound (a cold machine may first sync the workspace);
  # it ends as soon as the API answers.
  for _ in $(seq 1 1200); do
    url="$(sed -n 's#^plowline up: collector \(http://[^ ]*\).*#\1#p' "$_up_log" | head -n1)"
    if [ -n "$url" ] && curl -fsS "$url/micro/all" >/dev/null 2>&1; then
      PLOWLINE_UP_URL="$url"
      export PLOWLINE_UP_URL
      echo "plowline up at $url"
      return 0
    fi
    if ! kill -0 "$_up_pid" 2>/dev/null; then
      echo "plowline up exited early:" >&2
      cat "$_up_log" >&2
      return 1
    fi
    sleep 0.25
  done
  echo "plowline up did not become ready in 300 s:" >&2
  cat "$_up_log" >&2
  return 1
}
