"""Can visitors who arrive together break a real ZeroGPU Space? filelock's fork check against spaces' cold starts.

spaces 0.51.3 starts a GPU worker for a call that finds no warm one by forking from the request's own thread
(spaces/zero/wrappers.py, Worker: multiprocessing's fork context, no lock). filelock 3.30 and later, which
huggingface_hub imports, install a fork audit hook on Python 3.12+ that raises "os.fork is unsafe while filelock is
changing descriptor ownership" while another thread is forking. The Space pins filelock below 3.30 for that reason
(template/pyproject.toml.jinja); this run shows what the pin changes on a real GPU.

For the default kind's Space (rendered by benchmarks/gpu/prepare.sh, which names it in .gpu-proof/default-kind): a tiny random model; the app under the real spaces
package in ZeroGPU mode (zerogpu.emulate's Emulation), its fake scheduler handing out cold GPU slots only, so that
every call forks a worker, as for visitors who arrive together; REQUESTS requests at once, ROUNDS times; once with
each filelock under .gpu-proof/filelock/<version>/ first on the path: the one the Space's uv.lock pins, and 4.3.1,
which the lock resolved before the pin. Results: $OUT/fork-race.txt (one line per version), app logs in $OUT.

Run by benchmarks/gpu/emulate_on_gpu.sh after the emulator's proof, with the same carried wheels.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPOSITORY / "tests"))
from space_harness import SpaceError, call

REQUESTS = 16  # what the app serves at once (CONCURRENT_REQUESTS)
ROUNDS = 2  # each cold call leaves a worker behind until the app stops: 32 workers with a CUDA context each
FORK_ERROR = "os.fork is unsafe while filelock is changing descriptor ownership"


def gpu_uuid() -> str:
    query = ["nvidia-smi", "--query-gpu=uuid", "--format=csv,noheader"]
    found = subprocess.run(query, check=False, capture_output=True, text=True)
    return found.stdout.split()[0]


def race(space: Path, model: Path, filelock_dir: Path, out: Path) -> str:
    sys.path.insert(0, str(space))
    from zerogpu.emulate import Emulation

    version = filelock_dir.name
    env = {"PYTHONPATH": os.pathsep.join([str(filelock_dir), os.environ.get("PYTHONPATH", "")]),
           "MODEL_ID": str(model), "HF_HUB_OFFLINE": "1"}  # fmt: skip
    log = out / f"fork-race-filelock-{version}-app.log"
    outcomes: list[str] = []
    started = time.monotonic()
    with Emulation(space, gpu_uuid=gpu_uuid(), answer="ok", warm=False, log_path=log, extra_env=env,
                   startup_timeout=180) as emulation:  # fmt: skip

        def visitor(number: int) -> str:
            try:
                call(emulation.url, "chat", f"Hello from visitor {number}", 8, 0, timeout_s=120)
                return "ok"
            except (SpaceError, OSError) as error:
                return f"error: {str(error)[:200]}"

        for _ in range(ROUNDS):
            with ThreadPoolExecutor(REQUESTS) as pool:
                outcomes += list(pool.map(visitor, range(REQUESTS)))
        version_of = [sys.executable, "-c", "import filelock; print(filelock.__version__)"]
        loaded = subprocess.run(version_of, env={**os.environ, **env}, check=False, capture_output=True, text=True)
    app_log = log.read_text(errors="replace")
    failed = [outcome for outcome in outcomes if outcome != "ok"]
    return (f"filelock {version} (imported: {loaded.stdout.strip()}): {len(failed)} of {len(outcomes)} simultaneous calls failed, "
            f"{app_log.count(FORK_ERROR)} '{FORK_ERROR}' in the app log, {time.monotonic() - started:.0f} s"
            + (f"; first failure: {failed[0]}" if failed else ""))  # fmt: skip


def main() -> int:
    out = Path(os.environ.get("OUT") or sys.argv[1]).resolve()
    proof = Path(os.environ.get("PROOF", REPOSITORY / ".gpu-proof")).resolve()
    work = Path(tempfile.mkdtemp(prefix="fork-race-"))
    kind = (proof / "default-kind").read_text().strip()
    space = work / kind
    shutil.copytree(proof / "spaces" / kind, space)
    model = work / "tiny-model"
    subprocess.run([sys.executable, "tests/tiny_model.py", str(model)], cwd=space, check=True, capture_output=True)
    pinned = re.search(r'name = "filelock"\nversion = "([^"]+)"', (space / "uv.lock").read_text())[1]
    heading = (f"fork race: spaces' cold starts, {REQUESTS} visitors at once x {ROUNDS}, Python "
               f"{sys.version.split()[0]}; the Space's uv.lock pins filelock {pinned}")  # fmt: skip
    lines = [heading]
    for filelock_dir in sorted((proof / "filelock").iterdir()):
        lines.append(race(space, model, filelock_dir, out))
        print(lines[-1], flush=True)
    (out / "fork-race.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
