"""What benchmarks/gpu/calibrate_on_gpu.py times for the image app, beside its calibration plan (calibration.py):
the model it builds is full_size_model.py's, and the UNet compiled ahead of time. Never rendered into a Space."""

# Calls per size; the slowest counts, as in `python -m zerogpu.calibrate`: the host-bound steps vary most from call
# to call, so three.
REPEATS = 3
# Inputs (steps, width, height) timed beyond the fit's own spread, so the table also shows sizes the fit never saw.
EXTRA_SIZES = [(4, 512, 512), (15, 768, 768), (30, 1024, 768), (40, 384, 896), (50, 512, 1024)]
SMOKE_EXTRA_SIZES = [(2, 256, 384)]


def rule_sheet_s(size) -> int:
    """What the ZeroGPU rule sheet would declare: 3.5 s per diffusion step."""
    return int(size[0] * 3.5)


def widen(app, smoke: bool) -> None:
    """The UI's own limits on a GPU; a CPU smoke test checks the code paths with small ones."""
    if smoke:
        app.MAX_STEPS, app.MAX_SIDE = 4, 512


def aoti_size(app, steps: int, smoke: bool) -> tuple:
    """The input the AoTI timing draws: the UI's default, `steps` at the largest side (a smoke test: small)."""
    if smoke:
        app.MAX_SIDE, steps = 512, 2
    return (steps, app.MAX_SIDE, app.MAX_SIDE)


def aoti_export(app):
    """The UNet exported as the app exports it, for torch._inductor to compile."""
    try:
        return app.aoti_unet.export(app.pipe, app.MIN_SIDE, app.MAX_SIDE)
    except Exception as error:  # noqa: BLE001 - spaces' capture helper may refuse outside ZeroGPU: use torch's hook
        print(f"aoti: spaces.aoti_capture failed ({type(error).__name__}: {error}); capturing with a patch", flush=True)
        from test_app import capture_first_call

        app.spaces.aoti_capture = capture_first_call
        return app.aoti_unet.export(app.pipe, app.MIN_SIDE, app.MAX_SIDE)


def aoti_use(app, compiled) -> None:
    """Run the compiled package in the UNet's place."""
    app.pipe.unet.forward = lambda *args, **kwargs: compiled(*args, **kwargs)
