#!/usr/bin/env bash
# make fuzz: libFuzzer (clang -fsanitize=fuzzer,address,undefined) around the
# identifier parsers in src/ident_parse.h, for a bounded time per target.
# Not part of make test.
#   EHR_FUZZ_SECONDS=60   seconds per target (default 60)
#   EHR_FUZZ_KEEP=1       keep the work directory (corpus, crash files)
# Prints one line per target: executions, corpus size, crashes. Exit 1 on a crash.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$EHR_ROOT"

secs=${EHR_FUZZ_SECONDS:-60}
command -v clang >/dev/null 2>&1 || ensure_packages clang libclang-rt-14-dev
WORK=$(mktemp -d /tmp/ehr-fuzz-XXXXXX)
[ "${EHR_FUZZ_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

status=0
for target in resident_id org_code; do
    def=$(echo "FUZZ_$target" | tr a-z A-Z)
    bin="$WORK/fuzz_$target"
    clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -D"$def" -Isrc test/fuzz/fuzz_ident.c -o "$bin"
    corpus="$WORK/corpus_$target"; mkdir -p "$corpus"
    # seeds: valid values and near misses in every accepted spelling
    i=0
    for s in 11010519491231002X 11010519491231002x 440524800101001 " 110105200002290013 " \
             110105194902300021 11010519491231003X 91350100M000100Y43 91350100m000100y43 \
             91310115MA1H8R7C6D 12620000438000001H; do
        printf '%s' "$s" >"$corpus/seed$i"; i=$((i + 1))
    done
    set +e
    (cd "$WORK" && "$bin" -max_total_time="$secs" -max_len=64 -print_final_stats=1 \
        -artifact_prefix="$WORK/crash_${target}_" "$corpus") >"$WORK/$target.log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$target.log")
    crashes=$(find "$WORK" -maxdepth 1 -name "crash_${target}_*" | wc -l)
    printf 'fuzz %-12s %ss: %s executions, corpus %s inputs, %s crashes (exit %s)\n' \
        "$target" "$secs" "${execs:-?}" "$(ls "$corpus" | wc -l)" "$crashes" "$rc"
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        status=1; tail -40 "$WORK/$target.log"
    fi
done
[ "$status" -eq 0 ] && echo "fuzz: no crashes" || echo "fuzz: CRASHES (work dir $WORK)"
[ "$status" -eq 0 ] && exit 0
trap - EXIT; exit 1
