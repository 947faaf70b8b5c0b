#!/usr/bin/env bash
# Prepares what benchmarks/gpu/emulate_on_gpu.sh needs on the GPU machine, in the git-ignored folder .gpu-proof/:
#   .gpu-proof/spaces/<kind>/  each kind's Space, rendered for that machine (torch 2.11.0, Python 3.12)
#   .gpu-proof/wheels/         cp312 wheels of what it lacks (gradio, spaces and their server stack; diffusers)
#   .gpu-proof/default-kind    the name of the default kind (kind.yml's `default: true`), whose Space the fork race runs
#   .gpu-proof/filelock/<v>/   filelock as the default kind's uv.lock pins it, and 4.3.1 (the lock's choice before the
#                              pin), each unpacked on its own for fork_race_on_gpu.py
# Run here, from anywhere: bash benchmarks/gpu/prepare.sh   (needs uv, and PyPI for the wheels)
# Then carry .gpu-proof to the GPU machine with the working tree (the device tool's carry list: [".gpu-proof"]).
set -euo pipefail
cd "$(dirname "$0")/../.."
export UV_PYTHON_DOWNLOADS=never
PROOF=.gpu-proof
# What the GPU machine lacked for the first real-GPU run (facts sheet, "The real ZeroGPU path, run locally"), plus
# diffusers, which nobody checked there, and its one dependency a transformers machine may not have.
NEEDED=(gradio gradio-client spaces fastapi starlette uvicorn h11 pydantic pydantic-core annotated-types
    typing-inspection annotated-doc brotli groovy hf-gradio httpcore2 httpx2 opentelemetry-api orjson pydub
    python-multipart pytz safehttpx semantic-version tomlkit truststore diffusers importlib-metadata zipp)

git check-ignore -q "$PROOF/wheels" || { echo "prepare.sh: $PROOF must be git-ignored" >&2; exit 1; }
rm -rf "$PROOF"
mkdir -p "$PROOF/wheels" "$PROOF/spaces"
read -r -a KINDS <<< "$(uv run python -c 'from extensions.kinds import load_kinds; print(*load_kinds())')"
uv run python -c 'from extensions.kinds import default_kind; print(default_kind())' > "$PROOF/default-kind"

for kind in "${KINDS[@]}"; do
    uv run copier copy --quiet --trust --defaults --vcs-ref=HEAD --data app_kind="$kind" \
        --data torch_version=2.11.0 --data python_version=3.12 . "$PROOF/spaces/$kind" 2>/dev/null
done

# The versions a Python 3.12 Linux machine resolves for the Space's pins, kept for the packages above only.
printf 'gradio[oauth,mcp]==6.31.0\nspaces==0.51.3\ndiffusers==0.42.1\n' > "$PROOF/wanted.txt"
uv pip compile --quiet --no-header --no-annotate --python-version 3.12 --python-platform x86_64-manylinux_2_28 \
    "$PROOF/wanted.txt" -o "$PROOF/resolved.txt"
pins=()
for name in "${NEEDED[@]}"; do
    pin=$(grep -i -E "^${name}==" "$PROOF/resolved.txt" || true)
    [ -n "$pin" ] || { echo "prepare.sh: $name is not in the resolution; update NEEDED" >&2; exit 1; }
    pins+=("$pin")
done
uvx --quiet --from pip pip download --quiet --no-deps --only-binary=:all: --dest "$PROOF/wheels" \
    --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any "${pins[@]}" 2> >(grep -v "^WARNING: Location" >&2)  # quiet about pip.conf's local indexes

pinned=$(grep -A1 '^name = "filelock"$' "$PROOF/spaces/$(cat "$PROOF/default-kind")/uv.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')
for version in "$pinned" 4.3.1; do
    uvx --quiet --from pip pip install --quiet --no-deps --no-compile --target "$PROOF/filelock/$version" \
        "filelock==$version" 2> >(grep -v "^WARNING: Location" >&2)
done

echo "prepare.sh: $(ls "$PROOF/wheels" | wc -l) wheels, $(du -sh "$PROOF" | cut -f1) in $PROOF:"
ls "$PROOF/wheels"
