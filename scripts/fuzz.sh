#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang++, ASan + UBSan, build/fuzz) and runs
# each of them.
#
#   scripts/fuzz.sh [SECONDS]            every target for SECONDS (default 60)
#   scripts/fuzz.sh --ci [SECONDS]       the bounded CI run: every target for SECONDS (default
#                                        12), as the ctest test `fuzz.ci` does
#   scripts/fuzz.sh --regress            only re-run the stored inputs
#   FUZZ_TARGETS="cron rrule" scripts/fuzz.sh 300     only these targets
#
# First every stored input (tests/fuzz/corpus/<target>/ and tests/fuzz/crashers/<target>/) is
# run once as a regression input; then each target fuzzes, starting from its seeds plus what
# earlier runs found (build/fuzz/corpus/<target>/, kept between runs, never committed).
# An input slower than FUZZ_TIMEOUT seconds (default 5) is a finding, like a crash, a
# sanitizer report, a leak or more than FUZZ_RSS_MB (default 2048) of memory.
# A finding is copied to tests/fuzz/crashers/<target>/ (commit it: it stays a regression
# input) and the script exits non-zero. A summary line per target gives executions, time,
# coverage (cov: edges) and features (ft:).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=fuzz
if [ "${1:-}" = "--ci" ]; then mode=ci; shift; fi
if [ "${1:-}" = "--regress" ]; then mode=regress; shift; fi
seconds="${1:-$([ "$mode" = ci ] && echo 12 || echo 60)}"
timeout_s="${FUZZ_TIMEOUT:-5}"
rss_mb="${FUZZ_RSS_MB:-2048}"

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev," \
       "or scripts/install_deps.sh)" >&2
  exit 2
fi

all_targets=(deployment_spec_json deployment_spec_yaml cron rrule time params bundle json_api)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

# Per-target options. -max_len bounds an input: the JSON targets stay below the nesting
# depth at which nlohmann's recursive dump() exhausts the stack (issue 12 item 1: deep
# nesting is found with a larger -max_len and kept under tests/fuzz/open/).
options() {
  case "$1" in
    deployment_spec_json | params | json_api) echo "-max_len=4096 -dict=tests/fuzz/dict/json.dict" ;;
    deployment_spec_yaml) echo "-max_len=4096 -dict=tests/fuzz/dict/yaml.dict" ;;
    cron) echo "-max_len=256 -dict=tests/fuzz/dict/cron.dict" ;;
    rrule) echo "-max_len=512 -dict=tests/fuzz/dict/rrule.dict" ;;
    time) echo "-max_len=256 -dict=tests/fuzz/dict/time.dict" ;;
    bundle) echo "-max_len=16384" ;;
    *) echo "" ;;
  esac
}

# Sanitizers: any report is fatal; leaks are findings too.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

bin_dir=build/fuzz/tests/fuzz
work=build/fuzz/work
mkdir -p "$work"
status=0
summary=()

# Copies what libFuzzer wrote to tests/fuzz/crashers/<target>/; prints how many.
keep_findings() {  # target artifact_dir
  local t="$1" dir="$2" found=0
  shopt -s nullglob
  for f in "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/leak-*; do
    mkdir -p "tests/fuzz/crashers/$t"
    cp "$f" "tests/fuzz/crashers/$t/"
    echo "fuzz.sh: $t: finding kept as tests/fuzz/crashers/$t/$(basename "$f")" >&2
    found=$((found + 1))
  done
  shopt -u nullglob
  echo "$found"
}

for t in "${targets[@]}"; do
  bin="$bin_dir/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz.sh: no target $t ($bin)" >&2; exit 2; }
  read -r -a opts <<<"$(options "$t")"
  common=(-timeout="$timeout_s" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb")

  # 1. Stored inputs, each run once.
  inputs=()
  for d in "tests/fuzz/corpus/$t" "tests/fuzz/crashers/$t"; do
    [ -d "$d" ] && while IFS= read -r -d '' f; do inputs+=("$f"); done \
      < <(find "$d" -type f ! -name '*.md' -print0 | sort -z)
  done
  if [ ${#inputs[@]} -gt 0 ]; then
    if ! "$bin" "${common[@]}" "${inputs[@]}" >"$work/$t.regress.log" 2>&1; then
      echo "fuzz.sh: $t: a stored input fails (log: $work/$t.regress.log)" >&2
      tail -n 40 "$work/$t.regress.log" >&2
      status=1
      summary+=("$t: REGRESSION FAILED")
      continue
    fi
  fi
  [ "$mode" = regress ] && { summary+=("$t: ${#inputs[@]} stored inputs pass"); continue; }

  # 2. Fuzzing for $seconds, from the seeds and what earlier runs kept.
  corpus="$work/corpus/$t"
  artifacts="$work/artifacts/$t"
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  [ -d "tests/fuzz/corpus/$t" ] && seeds+=("tests/fuzz/corpus/$t")
  log="$work/$t.log"
  start=$(date +%s)
  rc=0
  "$bin" "${common[@]}" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | tail -n 1 | grep -o "[0-9]*$" || true)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  line="$t: ${execs:-?} execs in ${elapsed}s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
  found=$(keep_findings "$t" "$artifacts")
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    grep -E 'ERROR: |SUMMARY: |runtime error|fuzz invariant|Test unit written' "$log" | head -n 5 >&2 || true
    echo "fuzz.sh: $t: FAILED (exit $rc, log: $log)" >&2
    status=1
    line="$line: FINDING"
  fi
  summary+=("$line")
done

echo "---- fuzz summary ($mode, ${seconds}s per target, timeout ${timeout_s}s, rss ${rss_mb} MB)"
printf '%s\n' "${summary[@]}"
exit "$status"
