#!/usr/bin/env bash
# Long fuzzing runs with libFuzzer (docs/fuzzing.md): builds the harness in Fuzz/ and runs every
# target (or one) for SECONDS each, then prints a summary line per target.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]        # defaults: all, 600
#   FUZZ_MERGE=1 scripts/fuzz.sh quantity 600     # and merge new coverage into the committed corpus
#
# Each target starts from its committed corpus (Tests/FuzzTests/corpus/TARGET) and its regressions;
# new inputs go to Fuzz/.build/fuzz/TARGET/corpus, crashes, timeouts and out-of-memory inputs to
# Fuzz/.build/fuzz/TARGET/artifacts/, the log to Fuzz/.build/fuzz/TARGET/log. Fork mode keeps
# fuzzing after a crash. Runs under `nice`; FUZZ_FLAGS adds libFuzzer flags.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
which="${1:-all}"
seconds="${2:-600}"
out="$root/Fuzz/.build/fuzz"
targets=(manifest-json manifest-yaml protobuf quantity label-selector field-selector merge-patch
         strategic-merge-patch json-patch ndjson event-record)
if [ "$which" != all ]; then
    [[ " ${targets[*]} " == *" $which "* ]] || { echo "fuzz.sh: no target $which; targets: ${targets[*]}" >&2; exit 2; }
    targets=("$which")
fi

echo "building the harness (release, -sanitize=fuzzer,address)" >&2
nice swift build -c release --package-path "$root/Fuzz" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
harness="$(swift build -c release --package-path "$root/Fuzz" --show-bin-path)/kj-fuzz"

# A number after `$1` in the status line $last.
field() { sed -nE "s/.*$1 ([0-9/]+).*/\\1/p" <<<"$last"; }

summary=()
for t in "${targets[@]}"; do
    dir="$out/$t"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    seeds=("$root/Tests/FuzzTests/corpus/$t")
    [ -d "$root/Tests/FuzzTests/regressions/$t" ] && seeds+=("$root/Tests/FuzzTests/regressions/$t")
    echo "fuzzing $t for ${seconds}s" >&2
    # libFuzzer's own crash handler writes the artifacts: the Swift runtime's backtracer stays out.
    SWIFT_BACKTRACE=enable=no KJ_FUZZ_TARGET="$t" nice "$harness" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
        -dict="$root/Fuzz/kj.dict" -artifact_prefix="$dir/artifacts/" ${FUZZ_FLAGS:-} "$dir/corpus" "${seeds[@]}" >"$dir/log" 2>&1 || true
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        SWIFT_BACKTRACE=enable=no KJ_FUZZ_TARGET="$t" nice "$harness" -merge=1 -max_len=16384 \
            "$root/Tests/FuzzTests/corpus/$t" "$dir/corpus" >>"$dir/log" 2>&1 || true
    fi
    # The last status line of fork mode: "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: O/T/X time: Ss …".
    last="$(grep -E '^#[0-9]+: cov: ' "$dir/log" | tail -n 1 || true)"
    execs="$(sed -nE 's/^#([0-9]+): .*/\1/p' <<<"$last")"
    time="$(field ' time:')"
    rate="?"
    [ -n "$execs" ] && [ "${time:-0}" -gt 0 ] && rate=$((execs / time))
    summary+=("$(printf '%-22s %11s execs in %5ss (%6s/s)  cov %6s  ft %7s  corpus %6s  oom/timeout/crash %s' \
        "$t" "${execs:-?}" "${time:-?}" "$rate" "$(field 'cov:')" "$(field 'ft:')" "$(field 'corp:')" "$(field 'oom\/timeout\/crash:')")")
done

printf '%s\n' "${summary[@]}"
echo "artifacts (crash-*, timeout-*, oom-*) under $out/TARGET/artifacts; replay one with:"
echo "  KJ_FUZZ_TARGET=TARGET $harness ARTIFACT"
