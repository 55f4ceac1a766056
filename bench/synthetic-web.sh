# The synthetic news web of bench/fetch.sh and bench/state.sh, sourced by both: OUTLETS outlets
# (default 50) on their own loopback addresses, FEEDS feeds each (default 10) of ITEMS items
# (default 40), a sources file naming every feed ($work/sources.toml), and start_server /
# stop_server (the server serves the night $NIGHT when it is set).
OUTLETS=${OUTLETS:-50} FEEDS=${FEEDS:-10} ITEMS=${ITEMS:-40} PORT=${PORT:-18181}
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cargo build --release --locked -q
cargo build --release --locked -q --example fetch-bench-server
server=target/release/examples/fetch-bench-server

python3 - "$OUTLETS" "$FEEDS" "$PORT" "$work" <<'PY'
import sys, pathlib
outlets, feeds, port, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], pathlib.Path(sys.argv[4])
urls = [f"http://127.0.0.{o + 2}:{port}/feeds/{f}.xml" for o in range(outlets) for f in range(feeds)]
(work / "feeds.txt").write_text("\n".join(urls) + "\n")
lines = ["schema = 1", ""]
for n, u in enumerate(urls):
    lines += ["[[source]]", f'id = "feed-{n:04}"', f'feed = "{u}"', 'audience = "all"', 'tz = "Europe/Paris"', ""]
(work / "sources.toml").write_text("\n".join(lines))
PY

# Starts the server with its stdin on a pipe; closing the pipe makes it print its counts.
start_server() {
    rm -f "$work/ctl"; mkfifo "$work/ctl"
    "$server" "$PORT" "$OUTLETS" "$FEEDS" "$ITEMS" < "$work/ctl" > "$work/server.out" &
    server_pid=$!
    exec 3> "$work/ctl"
    for _ in $(seq 100); do grep -q ready "$work/server.out" 2>/dev/null && return; sleep 0.1; done
    echo "the bench server did not start" >&2; exit 2
}
stop_server() { exec 3>&-; wait "$server_pid"; }

