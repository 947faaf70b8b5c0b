#!/usr/bin/env bash
# On the GPU machine, from the repository root, with .gpu-wheels/ and .gpu-spaces/ carried over from
# benchmarks/gpu/prepare_calibrate.sh: install the wheels the machine lacks into a folder of their own, then run
# calibrate_on_gpu.py (or SCRIPT=fast_paths_on_gpu.py, a script beside it, or SCRIPT=kinds/<kind>/<script>.py, a
# path from the repository root) under setsid + timeout (TIMEOUT seconds, 540 unless set), writing everything under
# $OUT. Extra arguments go to the script (e.g. --only <kind>-aoti --budget 500).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"

SITE="$(mktemp -d)/site"
python -m pip install --quiet --no-index --no-deps --target "$SITE" .gpu-wheels/*.whl
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
if ! python -c "import diffusers.pipelines, gradio" 2>"$OUT/import-check.txt"; then
    echo "diffusers or gradio failed to import (import-check.txt): adding the fallback huggingface_hub" | tee -a "$OUT/setup.log"
    python -m pip install --quiet --no-index --no-deps --target "$SITE" .gpu-wheels/fallback/*.whl
    python -c "import diffusers.pipelines, gradio"
fi
python - <<'PY' | tee "$OUT/environment.txt"
import importlib, platform
import torch
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}")
print("GPU:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
for name in ("transformers", "diffusers", "accelerate", "gradio", "spaces", "huggingface_hub", "tokenizers"):
    module = importlib.import_module(name)
    print(f"{name} {getattr(module, '__version__', '?')}")
PY
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader | tee -a "$OUT/environment.txt" || true

# setsid: the calibration's own processes never hold this shell's pipes; timeout: a hard stop under the 10-minute
# limit of one device command, so that what was measured still comes back.
SCRIPT="${SCRIPT:-calibrate_on_gpu.py}"
case "$SCRIPT" in */*) SCRIPT_PATH="$SCRIPT" ;; *) SCRIPT_PATH="benchmarks/gpu/$SCRIPT" ;; esac
setsid timeout --kill-after=10 "${TIMEOUT:-540}" python "$SCRIPT_PATH" --out "$OUT" "$@" \
    > "$OUT/run.log" 2>&1 < /dev/null || echo "$SCRIPT exited with $?" >> "$OUT/run.log"
cat "$OUT/run.log"
