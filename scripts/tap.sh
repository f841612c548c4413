# TAP helpers for the shell suites under test/shell/ (sourced, never run).
# scripts/test.sh counts the "ok N" / "not ok N" lines they print.
n=0
ok()     { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
# check GOT WANT NAME: equal strings; on failure both are shown as TAP comments.
check()  { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; echo "#   got:  $1" | head -20; echo "#   want: $2"; fi; }
# has TEXT NEEDLE NAME: TEXT contains NEEDLE (a fixed string).
has()    { if grep -qF -- "$2" <<<"$1"; then ok "$3"; else not_ok "$3"; sed 's/^/#   /' <<<"$1" | head -20; echo "#   wanted: $2"; fi; }

# own_cluster NAME [postgresql.conf lines...]: a private throwaway cluster for this
# suite under $EHR_TMP (removed on exit); bails out of the TAP stream if it cannot start.
own_cluster() {
    local name=$1; shift
    OWN_DIR=$(mktemp -d "${EHR_TMP:-/tmp}/$name-XXXXXX"); chmod 755 "$OWN_DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$OWN_DIR"
    start_cluster "$OWN_DIR/c" "$@" >/dev/null 2>&1 || { echo "Bail out! cannot start a cluster"; exit 1; }
    trap 'stop_cluster "$OWN_DIR/c"; rm -rf "$OWN_DIR"' EXIT
}
