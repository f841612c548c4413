#!/usr/bin/env bash
# make demo: a throwaway cluster that stays up, loaded with the Gansu platform's
# scenario. Each capability adds one file to scripts/demo/ (applied in name order);
# every file's output is printed, so the demo narrates itself.
#   make demo        start (or restart) it and replay the story
#   make demo-stop   stop it and remove its directory
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EHR_ROOT"

DEMO_DIR=${EHR_DEMO_DIR:-/tmp/ehr-demo}
DB=ehr_demo

stop() {
    stop_cluster "$DEMO_DIR"
    rm -rf "$DEMO_DIR"
}

case "${1:-start}" in
stop)
    stop
    echo "demo cluster stopped and removed ($DEMO_DIR)"
    exit 0
    ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

ensure_packages
build_and_install
stop
mkdir -p "$DEMO_DIR"; chmod 755 "$DEMO_DIR"
start_cluster "$DEMO_DIR"
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -d "$DB" -c "CREATE EXTENSION ehr" >/dev/null

for f in scripts/demo/*.sql; do
    echo
    echo "################ $(basename "$f")"
    psql -X -d "$DB" -v ON_ERROR_STOP=1 --echo-queries -P pager=off -f "$f"
done

stop_hint="make demo-stop"
[ "$DEMO_DIR" != /tmp/ehr-demo ] && stop_hint="EHR_DEMO_DIR=$DEMO_DIR bash scripts/demo.sh stop"
cat <<EOF

The demo cluster is running (PostgreSQL 15, ehr preloaded, loopback only).
  connect:  psql -h $PGHOST -p $PGPORT -U postgres $DB
            (schema ehr is on $DB's search_path: try  SELECT * FROM lab_item;)
  stop:     $stop_hint
  log:      $DEMO_DIR/server.log
EOF
