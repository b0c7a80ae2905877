# Sourced by ci.sh and bench.sh. `plowline_up_start` starts a real `plowline up` (collector,
# enricher and store in one process) on a free port in its own process group and arranges for
# exactly that group to be stopped on exit; `plowline_up_wait` returns once its API answers
# (then $PLOWLINE_URL is set). Readiness is polled while the process lives: no fixed window a
# busy machine could miss; a process that exits, or never answers within 15 minutes, fails.
plowline_up_start() {
    local root port
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    PLOWLINE_UP_LOG="$(mktemp -t plowline-rust-up.XXXXXX)"
    (cd "$root" && exec setsid uv run --frozen plowline up --port "$port" >"$PLOWLINE_UP_LOG" 2>&1) &
    PLOWLINE_UP_PID=$!
    trap 'kill -TERM -- "-$PLOWLINE_UP_PID" 2>/dev/null || true; wait "$PLOWLINE_UP_PID" 2>/dev/null || true' EXIT
    PLOWLINE_URL="http://127.0.0.1:$port"
}

plowline_up_wait() {
    for _ in $(seq 1 1800); do
        if curl -fsS -o /dev/null "$PLOWLINE_URL/micro/all" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$PLOWLINE_UP_PID" 2>/dev/null; then
            echo "plowline up exited before answering:" >&2
            cat "$PLOWLINE_UP_LOG" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "plowline up never answered on $PLOWLINE_URL:" >&2
    cat "$PLOWLINE_UP_LOG" >&2
    return 1
}
