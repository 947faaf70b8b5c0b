"""What benchmarks/gpu/emulate_on_gpu.py needs from the image-editing kind: its endpoint, its estimator and its
fast-path probe (none: this kind has no fast path).

Standard library only, like the script that loads it by path on the GPU machine.
"""

ENDPOINT = "/edit"  # the Space's own endpoint
ESTIMATOR = "edit_duration"


def estimator_arguments(args: list) -> list:
    """The report's arguments as the estimator takes them (the same)."""
    return list(args)


FAST_PATH = None  # no fast-path module, so no probe is planted
FAST_PATH_PROBE = ""
