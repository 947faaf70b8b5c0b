#!/usr/bin/env bash
# Run HERE, before benchmarks/gpu/run.sh goes to the GPU machine (which reaches no index): download the wheels in
# wheels.txt and this repository's zerogpu wheel into .gpu-wheels/ and render each kind's Space, with its default answers, into .gpu-spaces/<kind>/
# (and each kind whose kind.yml has `aoti` with aoti on into .gpu-spaces/<kind>-aoti/).
# Both folders are ignored build outputs; carry them with the run (see docs/durations.md, "Measure on a GPU").
set -euo pipefail
cd "$(dirname "$0")/../.."

rm -rf .gpu-wheels .gpu-spaces
mkdir -p .gpu-wheels .gpu-spaces
grep -v '^#' benchmarks/gpu/wheels.txt | grep . > .gpu-wheels/requirements.txt
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest .gpu-wheels \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
    -r .gpu-wheels/requirements.txt
# Installed there only if diffusers fails to import with the machine's own huggingface_hub (diffusers 0.42 needs
# >= 1.32; the newest 1.x keeps whatever transformers the machine has content).
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest .gpu-wheels/fallback "huggingface-hub==1.33.0"
# The repository's own zerogpu package, which the report step imports (the workers use each Space's vendored copy).
uv build --quiet --wheel --out-dir .gpu-wheels
echo "wheels: $(ls .gpu-wheels/*.whl .gpu-wheels/fallback/*.whl | wc -l) files, $(du -sh .gpu-wheels | cut -f1)"

# Each kind's Space with its defaults (the fast paths on), and each AoTI kind's Space with aoti on as well: off
# ZeroGPU it runs eagerly, and its AoTI module's export() is what the AoTI timing and aoti_package_on_gpu.py compile.
render() {  # render KIND FOLDER [copier's --data arguments]
    uv run copier copy --quiet --trust --defaults --vcs-ref=HEAD --skip-tasks --data app_kind="$1" "${@:3}" . ".gpu-spaces/$2"
}
read -r -a KINDS <<< "$(uv run python -c 'from extensions.kinds import load_kinds; print(*load_kinds())')"
read -r -a AOTI_KINDS <<< "$(uv run python -c 'from extensions.kinds import load_kinds
print(*(name for name, kind in load_kinds().items() if kind.get("aoti")))')"
for kind in "${KINDS[@]}"; do render "$kind" "$kind"; done
for kind in "${AOTI_KINDS[@]}"; do render "$kind" "$kind-aoti" --data aoti=true; done
echo "spaces: $(ls .gpu-spaces)"
