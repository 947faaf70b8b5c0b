"""What benchmarks/gpu/calibrate_on_gpu.py times for the chat, beside its calibration plan (calibration.py): the
model it builds is full_size_model.py's. Never rendered into a Space."""

# Calls per size; the slowest counts, as in `python -m zerogpu.calibrate`: long replies even the noise out (and take
# minutes), so two.
REPEATS = 2
# Inputs timed beyond the fit's own spread, so the table also shows sizes the fit never saw: new tokens, or (new
# tokens, prompt tokens); the last, the most new tokens after a prompt near MAX_INPUT_TOKENS.
EXTRA_SIZES = [16, 512, (2048, 3500)]
SMOKE_EXTRA_SIZES = [4, (32, 300)]
MOST_NEW_TOKENS = 2048  # app.py's `at_most` for MAX_NEW_TOKENS


def rule_sheet_s(size) -> int:
    """What the ZeroGPU rule sheet would declare: 60 s flat."""
    return 60


def widen(app, smoke: bool) -> None:
    """The UI's limit follows durations.json: measure up to the most it may ever offer (a CPU smoke test: a little)."""
    app.MAX_NEW_TOKENS = 32 if smoke else MOST_NEW_TOKENS
