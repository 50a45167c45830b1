#!/bin/sh
# Run a repository's claims with JUnit XML and results.json: what examples/ci/github-actions.yml runs.
# Copy it into your repository (the workflow expects it at ci/run-claims.sh).
#
#   sh ci/run-claims.sh [PYTEST ARGS...]            the claims: the case files named, or those pytest finds
#                                                    (ini option redshift_cases, default cases/*.yaml)
#   sh ci/run-claims.sh --timing [PYTEST ARGS...]   optional: time the benchmarks in $REDSHIFT_BENCH with
#                                                    pytest-benchmark and compare with the previous stored run
#
# Environment (all optional):
#   PYTHON                 interpreter (default: python)
#   REDSHIFT_OUT           folder of junit.xml, results.json, benchmarks.json (default: reports/ci)
#   REDSHIFT_SEED, REDSHIFT_SAMPLES, REDSHIFT_TIER, REDSHIFT_DEVICE   the plugin's --redshift-* options
#   REDSHIFT_BENCH         folder of pytest-benchmark tests (default: benchmarks; none: --timing does nothing)
#   REDSHIFT_BENCH_STORAGE pytest-benchmark storage, kept between CI runs (default: .benchmarks)
#   REDSHIFT_BENCH_FAIL    regression rule, pytest-benchmark's --benchmark-compare-fail (default: median:10%)
#
# Exit status: pytest's (0 every claim holds, 1 a claim or a benchmark comparison failed, 2 or more:
# interrupted, usage or collection error).
set -eu

python="${PYTHON:-python}"
out="${REDSHIFT_OUT:-reports/ci}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # absolute: the plugin resolves --redshift-report-json against pytest's rootdir

if [ "${1:-}" = "--timing" ]; then
    shift
    bench="${REDSHIFT_BENCH:-benchmarks}"
    if [ ! -d "$bench" ]; then
        echo "run-claims.sh: no benchmark folder '$bench' (set REDSHIFT_BENCH): nothing to time"
        exit 0
    fi
    storage="${REDSHIFT_BENCH_STORAGE:-.benchmarks}"
    set -- "$bench" -p no:cacheprovider --benchmark-enable --benchmark-autosave --benchmark-save-data \
        --benchmark-storage "file://$storage" --benchmark-json "$out/benchmarks.json" "$@"
    if ls "$storage"/*/*.json >/dev/null 2>&1; then  # a previous run to compare with
        set -- "$@" --benchmark-compare --benchmark-compare-fail "${REDSHIFT_BENCH_FAIL:-median:10%}"
    fi
    exec "$python" -m pytest "$@"
fi

[ -n "${REDSHIFT_SEED:-}" ] && set -- "$@" --redshift-seed "$REDSHIFT_SEED"
[ -n "${REDSHIFT_SAMPLES:-}" ] && set -- "$@" --redshift-samples "$REDSHIFT_SAMPLES"
[ -n "${REDSHIFT_TIER:-}" ] && set -- "$@" --redshift-tier "$REDSHIFT_TIER"
[ -n "${REDSHIFT_DEVICE:-}" ] && set -- "$@" --redshift-device "$REDSHIFT_DEVICE"
exec "$python" -m pytest -p no:cacheprovider -rfE --junitxml "$out/junit.xml" \
    --redshift-report-json "$out/results.json" "$@"
