"""Timing on a GPU for the benchmarks and each kind's part of them: the device drained around each call, and the
hardware's two ceilings that every speed is reported against, measured in the same run."""

import statistics
import time


def say(text: str) -> None:
    print(text, flush=True)


def synchronize() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(function, repeats: int = 1) -> float:
    """Median seconds of `repeats` calls, the device drained before and after each."""
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        function()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ceilings(device, smoke: bool) -> dict[str, float]:
    """The memory bandwidth (a 2 GiB device-to-device copy, bytes read plus written) and the bf16 matrix rate (an
    8192^3 product)."""
    import torch

    size = (2**20 if smoke else 2**30) // 2  # bf16 elements: 2 GiB (1 MiB in a smoke test)
    source, target = torch.randn(size, device=device, dtype=torch.bfloat16), torch.empty(size, device=device,
                                                                                         dtype=torch.bfloat16)  # fmt: skip
    target.copy_(source)
    copy_s = timed(lambda: target.copy_(source), 10)
    side = 512 if smoke else 8192
    a, b = (torch.randn(side, side, device=device, dtype=torch.bfloat16) for _ in range(2))
    a @ b
    matmul_s = timed(lambda: a @ b, 10)
    result = {"bandwidth_tbs": 2 * source.nbytes / copy_s / 1e12, "matmul_tflops": 2 * side**3 / matmul_s / 1e12}
    say(f"ceilings: copy {result['bandwidth_tbs']:.2f} TB/s, bf16 matmul {result['matmul_tflops']:.0f} TFLOP/s")
    return result
