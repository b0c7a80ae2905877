# Sourced by ci.sh and bench.sh: starts a real `plowline up` (collector, enricher and store in
# one process) on a free port in its own process group, sets $PLOWLINE_URL once its API answers,
# and stops exactly that process group on exit. Readiness is polled while the process lives
# (no fixed window a busy machine could miss); a process that exits or never answers fails.
plowline_up() {
    local root log port
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    log="$(mktemp)"
    (cd "$root" && exec setsid uv run --frozen plowline up --port "$port" >"$log" 2>&1) &
    PLOWLINE_UP_PID=$!
    trap 'kill -TERM -- "-$PLOWLINE_UP_PID" 2>/dev/null || true; wait "$PLOWLINE_UP_PID" 2>/dev/null || true' EXIT
    PLOWLINE_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 1200); do  # at most 10 minutes (a cold uv sync builds native extensions)
        if curl -fsS -o /dev/null "$PLOWLINE_URL/micro/all" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$PLOWLINE_UP_PID" 2>/dev/null; then
            echo "plowline up exited before answering:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "plowline up never answered on $PLOWLINE_URL:" >&2
    cat "$log" >&2
    return 1
}
