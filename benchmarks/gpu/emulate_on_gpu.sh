#!/usr/bin/env bash
# The GPU proof of `python -m zerogpu.emulate` (issue 4), for a machine with an NVIDIA GPU and a CUDA build of torch.
#
# 1. Here: bash benchmarks/gpu/prepare.sh      (renders each kind and fetches wheels into the git-ignored .gpu-proof/)
# 2. There, from the repository root, with .gpu-proof carried along and $OUT a folder whose files come back:
#      setsid timeout -k 10 570 bash benchmarks/gpu/emulate_on_gpu.sh >"$OUT/emulate_on_gpu.log" 2>&1 </dev/null;
#      cat "$OUT/summary.txt"
#    (setsid and a file, not a pipe: worker processes that outlive a timeout would hold a pipe open.)
#
# It installs the carried wheels into a scratch folder on PYTHONPATH (nothing system-wide), then runs
# benchmarks/gpu/emulate_on_gpu.py: results in $OUT/summary.txt (PASS/FAIL per claim), the emulator's output in
# $OUT/<kind>-emulate.txt, the app's log in $OUT/<kind>-app.log, the calls as JSON in $OUT/<kind>-report.json.
# First, benchmarks/gpu/fork_race_on_gpu.py: simultaneous cold starts with each carried filelock, in $OUT/fork-race.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-${1:?give a folder for the results: OUT=... or the first argument}}
mkdir -p "$OUT"
: >"$OUT/summary.txt"
PY=${PYTHON:-python3}
PROOF=${PROOF:-.gpu-proof}

if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "emulate_on_gpu: no NVIDIA GPU here (nvidia-smi finds none): nothing to prove, nothing started." \
        | tee -a "$OUT/summary.txt"
    exit 2
fi
if [ "$("$PY" -c 'import sys; print(sys.version_info[:2] == (3, 12))')" != True ]; then
    echo "emulate_on_gpu: $PY is not Python 3.12, which the carried cp312 wheels need (set PYTHON=...)." \
        | tee -a "$OUT/summary.txt"
    exit 2
fi
if ! ls "$PROOF"/wheels/*.whl >/dev/null 2>&1; then
    echo "emulate_on_gpu: no wheels in $PROOF/wheels: run benchmarks/gpu/prepare.sh here and carry $PROOF." \
        | tee -a "$OUT/summary.txt"
    exit 2
fi

SITE=$(mktemp -d)/site
"$PY" -m pip install --quiet --no-index --no-deps --target "$SITE" "$PROOF"/wheels/*.whl >"$OUT/pip.log" 2>&1 \
    || { echo "emulate_on_gpu: installing the carried wheels failed (see pip.log)" | tee -a "$OUT/summary.txt"; exit 1; }
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" OUT PROOF
"$PY" benchmarks/gpu/fork_race_on_gpu.py >"$OUT/fork-race.log" 2>&1 || echo "fork_race_on_gpu.py failed (fork-race.log)"
exec "$PY" benchmarks/gpu/emulate_on_gpu.py
