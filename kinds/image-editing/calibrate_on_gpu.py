"""What benchmarks/gpu/calibrate_on_gpu.py times for the image-editing app, beside its calibration plan
(calibration.py): the model it builds is full_size_model.py's. Never rendered into a Space."""

# Calls per size; the slowest counts, as in `python -m zerogpu.calibrate`: the host-bound steps vary most from call
# to call, so three.
REPEATS = 3
# Inputs (steps, width, height) timed beyond the fit's own spread, so the table also shows sizes the fit never saw.
EXTRA_SIZES = [(4, 512, 512), (10, 512, 512), (10, 768, 768), (25, 768, 576), (40, 384, 704), (50, 640, 480)]
SMOKE_EXTRA_SIZES = [(2, 64, 96)]


def rule_sheet_s(size) -> int:
    """What the ZeroGPU rule sheet would declare: 3.5 s per diffusion step."""
    return int(size[0] * 3.5)


def widen(app, smoke: bool) -> None:
    """The UI's own limits on a GPU; a CPU smoke test checks the code paths with small ones."""
    if smoke:
        app.MAX_STEPS, app.MAX_SIDE = 4, 192
