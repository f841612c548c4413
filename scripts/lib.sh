# Shared shell helpers for make test / demo / bench: packages, build, throwaway clusters.
# Sourced, never run. Every cluster listens on loopback only, in a private directory.

EHR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PGBIN=/usr/lib/postgresql/15/bin
# EHR_PGROOT=DIR (for developers running several builds at once): a private copy
# of the PostgreSQL 15 installation under DIR, made on first use; the extension is
# installed there (DESTDIR) instead of into the system directories. The server finds
# its share and lib directories relative to its own binary, so the copy just works.
if [ -n "${EHR_PGROOT:-}" ]; then
    PGBIN=$EHR_PGROOT/usr/lib/postgresql/15/bin
fi
EHR_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap postgresql-contrib
              libssl-dev libtap-parser-sourcehandler-pgtap-perl gcc make)

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=() p
    for p in "${EHR_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

private_root() {
    [ -x "$PGBIN/postgres" ] && return 0
    mkdir -p "$EHR_PGROOT/usr/lib/postgresql" "$EHR_PGROOT/usr/share/postgresql"
    cp -a /usr/lib/postgresql/15 "$EHR_PGROOT/usr/lib/postgresql/"
    cp -a /usr/share/postgresql/15 "$EHR_PGROOT/usr/share/postgresql/"
    chmod 755 "$EHR_PGROOT"
}

build_and_install() {
    (cd "$EHR_ROOT" && make -s PG_CONFIG="$PG_CONFIG" >/dev/null) || return 1
    if [ -n "${EHR_PGROOT:-}" ]; then
        private_root
        (cd "$EHR_ROOT" && make -s PG_CONFIG="$PG_CONFIG" install DESTDIR="$EHR_PGROOT" >/dev/null)
    else
        (cd "$EHR_ROOT" && as_root make -s PG_CONFIG="$PG_CONFIG" install >/dev/null)
    fi
}

# PostgreSQL refuses to run as root: when we are root the server runs as the
# unprivileged 'postgres' user that the Debian package creates.
server_user() {
    if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}
as_server() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    echo "no free loopback port found" >&2; return 1
}

# start_cluster DIR [extra postgresql.conf lines...]: initdb + start on a free
# loopback port; sets PGHOST, PGPORT, PGUSER for the caller.
start_cluster() {
    local dir=$1; shift
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_server "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    local port; port=$(free_port)
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$dir'"
        echo "shared_preload_libraries = 'ehr'"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "max_connections = 50"
        echo "max_prepared_transactions = 10"
        echo "log_min_messages = notice"
        for l in "$@"; do echo "$l"; done
    } | as_server tee -a "$dir/data/postgresql.conf" >/dev/null
    # PG_CTL_POSTGRES: another server binary or wrapper (scripts/memcheck.sh runs valgrind)
    as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "${PG_CTL_TIMEOUT:-60}" \
        ${PG_CTL_POSTGRES:+-p "$PG_CTL_POSTGRES"} start >/dev/null
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
}

stop_cluster() {
    local dir=$1
    [ -d "$dir/data" ] && as_server "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

make_tmpdir() {
    local d; d=$(mktemp -d /tmp/ehr-XXXXXX)
    chmod 755 "$d"
    [ "$(id -u)" = 0 ] && chown postgres: "$d"
    echo "$d"
}
