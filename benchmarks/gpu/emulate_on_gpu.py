"""The GPU proof of the emulator (issue 4): run by benchmarks/gpu/emulate_on_gpu.sh on a machine with an NVIDIA GPU.

For each kind's Space (rendered by benchmarks/gpu/prepare.sh): build a tiny random-weight model of the real
architecture, plant two extra GPU handlers in a copy of app.py (a probe that reports where it runs, and the mistake
of returning a CUDA tensor), run `python -m zerogpu.emulate --call-each` with the fake scheduler answering ok,
illegal-duration, quota-exceeded and no-gpu in turn, and check what came back. Every claim is written to
$OUT/summary.txt as PASS or FAIL with its evidence; the emulator's output and the app's log are kept in $OUT.

Standard library only: it runs with whatever Python has torch on that machine.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import kind_parts  # beside this script: each kind's own part, kinds/<kind>/emulate_probe.py

ANSWERS = "ok,illegal-duration,quota-exceeded,no-gpu"
EMULATOR_TIMEOUT_S = 200  # per kind: both kinds and the model builds fit the device tool's 10 minutes
PLANTED = '''

# --- planted by benchmarks/gpu/emulate_on_gpu.py for the GPU proof; not part of the Space ---
import os as _os  # noqa: E402

_MAIN_PROCESS = {"pid": _os.getpid(), "cuda_available": torch.cuda.is_available()}


@spaces.GPU(duration=5)
def planted_probe() -> dict:
    """Where a handler runs: a worker forked from the app, with the real GPU attached."""
    ones = torch.ones(4, device="cuda")
    return {
        "main_process": _MAIN_PROCESS,
        "worker_pid": _os.getpid(),
        "worker_parent": _os.getppid(),
        "gpu": torch.cuda.get_device_name(0),
        "tensor_device": str(ones.device),
        "sum": float(ones.sum().cpu()),
        "memory_allocated": torch.cuda.memory_allocated(),
        "CUDA_VISIBLE_DEVICES": _os.environ.get("CUDA_VISIBLE_DEVICES"),
    }


@spaces.GPU(duration=5)
def planted_cuda_return() -> list:
    """The mistake the rules forbid: a CUDA tensor handed back to the main process."""
    return torch.ones(4, device="cuda")


with demo:
    gr.api(planted_probe, api_name="planted_probe")
    gr.api(planted_cuda_return, api_name="planted_cuda_return")
'''


def kind_probe(kind: str):
    """kinds/<kind>/emulate_probe.py: the kind's endpoint, its estimator and its fast-path probe."""
    return kind_parts.load(kind, "emulate_probe")


def plant(app: Path, kind: str | None = None) -> None:
    text = app.read_text(encoding="utf-8")
    marker = '\nif __name__ == "__main__":'
    assert marker in text, f"{app} has no {marker!r}"
    kind_part = kind_probe(kind) if kind else None
    probe = kind_part.FAST_PATH_PROBE if kind_part and f"import {kind_part.FAST_PATH}" in text else ""
    app.write_text(text.replace(marker, PLANTED + probe + marker, 1), encoding="utf-8")


def run(command: list[str], cwd: Path, env: dict, log: Path, timeout: float) -> int:
    """Run in a session of its own, output to a file; on timeout, stop the whole process group."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)  # the emulator stops its app and workers on SIGTERM
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            output.write(f"\n[emulate_on_gpu.py: stopped after {timeout} s]\n")
            return 124


class Summary:
    def __init__(self, path: Path):
        self.path = path
        self.failed = 0

    def line(self, text: str) -> None:
        print(text, flush=True)
        with open(self.path, "a") as summary:
            summary.write(text + "\n")

    def claim(self, ok: bool, claim: str, evidence: str) -> None:
        self.failed += not ok
        self.line(f"{'PASS' if ok else 'FAIL'}  {claim}\n      {evidence}")


def prove(kind: str, proof: Path, work: Path, out: Path, summary: Summary) -> None:
    kind_part = kind_probe(kind)
    endpoint, estimator, estimator_arguments = kind_part.ENDPOINT, kind_part.ESTIMATOR, kind_part.estimator_arguments
    space = work / kind
    shutil.copytree(proof / "spaces" / kind, space)
    model = work / f"{kind}-model"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    build = (
        "import sys; sys.path.insert(0, 'tests'); from tiny_model import save_tiny_model; save_tiny_model(sys.argv[1])"
    )
    started = time.monotonic()
    code = run([sys.executable, "-c", build, str(model)], space, env, out / f"{kind}-tiny-model.log", 120)
    summary.line(f"\n== {kind}: tiny random {model.name} built (exit {code}, {time.monotonic() - started:.0f} s)")
    if code != 0:
        summary.claim(False, f"{kind}: tiny model built", (out / f"{kind}-tiny-model.log").read_text()[-2000:])
        return
    plant(space / "app.py", kind)

    report_path = out / f"{kind}-report.json"
    command = [sys.executable, "-m", "zerogpu.emulate", "--call-each", "--answer", ANSWERS,
               "--log", str(out / f"{kind}-app.log"), "--report", str(report_path)]  # fmt: skip
    summary.line(f"$ MODEL_ID={model} {' '.join(command[1:])}   (in {space})")
    started = time.monotonic()
    code = run(command, space, {**env, "MODEL_ID": str(model)}, out / f"{kind}-emulate.txt", EMULATOR_TIMEOUT_S)
    summary.line(f"emulator exit code {code} after {time.monotonic() - started:.0f} s; output {kind}-emulate.txt")
    if not report_path.exists():
        summary.claim(False, f"{kind}: the emulator ran", (out / f"{kind}-emulate.txt").read_text()[-3000:])
        return
    report = json.loads(report_path.read_text())
    calls = {(call["endpoint"], call["answer"]): call for call in report.get("calls", [])}
    app_log = (out / f"{kind}-app.log").read_text(errors="replace") if (out / f"{kind}-app.log").exists() else ""

    summary.claim(report["packed_bytes"] > 0 and report["startup_reports"] >= 1,
                  f"{kind}: weights packed to disk at launch, startup reported to the device API",
                  f"packed {report['packed_bytes']} bytes, {report['startup_reports']} startup report(s)")  # fmt: skip
    main = calls.get((endpoint, "ok"), {})
    summary.claim(bool(main.get("ok")), f"{kind}: {endpoint} succeeds on the GPU",
                  f"arguments {main.get('arguments')} -> {main.get('outcome')}")  # fmt: skip

    expected = expected_seconds(space, model, estimator, estimator_arguments(main.get("arguments") or []))
    declared = [request["durationSeconds"] for request in main.get("schedules", [])]
    summary.claim(bool(declared) and expected is not None and declared[0] in (expected, round(expected * 1.5)),
                  f"{kind}: the declared duration reached the fake device API",
                  f"{estimator}(...) = {expected} s on CPU; /schedule got durationSeconds={declared} "
                  "(x1.5 only where spaces' config says Blackwell)")  # fmt: skip

    probe = calls.get(("/planted_probe", "ok"), {})
    value = probe.get("value") or {}
    in_worker = (
        probe.get("ok")
        and value.get("worker_pid") not in (None, report["app_pid"])
        and value.get("worker_parent") == report["app_pid"]
        and str(value.get("tensor_device", "")).startswith("cuda")
        and value.get("memory_allocated", 0) > 0
    )
    summary.claim(bool(in_worker), f"{kind}: a handler runs in a worker forked from the app, with the GPU attached",
                  f"app pid {report['app_pid']}; probe {json.dumps(value) if value else probe.get('outcome')}")  # fmt: skip
    fast = calls.get(("/planted_fast_path", "ok"), {})
    if kind_part.FAST_PATH_PROBE:
        found = fast.get("value") or {}
        same = found.get("same_tokens", found.get("same_pixels"))
        same = same or found.get("eager_repeats") is False  # bf16 greedy eager differs from itself: no reference
        summary.claim(bool(fast.get("ok")) and found.get("graphs_in_use", 0) > 0 and same is True,
                      f"{kind}: the fast path replays checked CUDA graphs in the forked worker, with eager's output (or eager differs from itself)",
                      f"probe {json.dumps(found) if found else fast.get('outcome')}")  # fmt: skip
    planted = calls.get(("/planted_cuda_return", "ok"), {})
    message = "Low-level CUDA init (`torch._C._cuda_init`) reached"
    seen = message in (planted.get("app_log") or "") or message in app_log or message in planted.get("outcome", "")
    summary.claim(not planted.get("ok", True) and seen,
                  f"{kind}: a CUDA tensor returned fails with the real message",
                  f"visitor sees {planted.get('outcome')!r}; app log has {message!r}: {seen}")  # fmt: skip

    for answer, text in (("illegal-duration", "larger than the maximum allowed"),
                         ("quota-exceeded", "You have exceeded your ZeroGPU quota"),
                         ("no-gpu", "No GPU was available")):  # fmt: skip
        call = calls.get((endpoint, answer), {})
        summary.claim(not call.get("ok", True) and text in call.get("outcome", ""),
                      f"{kind}: the fake answering {answer} gives the real message",
                      str(call.get("outcome")))  # fmt: skip
    stopped = report.get("stopped") or {}
    summary.claim(bool(stopped) and stopped.get("left") == [] and len(stopped.get("stopped", [])) > 1,
                  f"{kind}: the app and its worker processes are stopped at exit",
                  f"running before stop {report.get('running_before_stop')}; stopped {stopped}")  # fmt: skip


def expected_seconds(space: Path, model: Path, estimator: str, arguments: list) -> int | None:
    """The estimator's answer for the same arguments, computed in a plain CPU process (no ZeroGPU)."""
    code = f"import json, sys, app; print(json.dumps(app.{estimator}(*json.loads(sys.argv[1]))))"
    env = {**os.environ, "MODEL_ID": str(model), "CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1"}
    env.pop("SPACES_ZERO_GPU", None)
    try:
        done = subprocess.run([sys.executable, "-c", code, json.dumps(arguments)], cwd=space, env=env,
                              check=False, capture_output=True, text=True, timeout=300)  # fmt: skip
        return int(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return None


def main() -> int:
    out = Path(os.environ.get("OUT") or sys.argv[1]).resolve()
    proof = Path(os.environ.get("PROOF", ".gpu-proof")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary(out / "summary.txt")
    smi = shutil.which("nvidia-smi")
    gpus = subprocess.run([smi, "-L"], check=False, capture_output=True, text=True).stdout.strip() if smi else ""
    if not re.search(r"^GPU \d+:", gpus, re.MULTILINE):
        summary.line("emulate_on_gpu: no NVIDIA GPU here (nvidia-smi finds none): nothing to prove, nothing started.")
        return 2
    import torch  # the machine's own

    summary.line(f"emulate_on_gpu: {gpus.splitlines()[0]}; Python {sys.version.split()[0]}; torch {torch.__version__}")
    if not (proof / "spaces").is_dir():
        summary.line(f"emulate_on_gpu: {proof}/spaces is missing: run benchmarks/gpu/prepare.sh and carry .gpu-proof")
        return 2
    work = Path(tempfile.mkdtemp(prefix="gpu-proof-"))
    prepared = ",".join(sorted(path.name for path in (proof / "spaces").iterdir()))
    for kind in os.environ.get("PROOF_KINDS", prepared).split(","):  # PROOF_KINDS=a,b: only those kinds
        prove(kind, proof, work, out, summary)
    summary.line(f"\nemulate_on_gpu: {summary.failed} claim(s) failed")
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
