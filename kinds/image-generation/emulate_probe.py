"""What benchmarks/gpu/emulate_on_gpu.py needs from the image-generation kind: its endpoint, its estimator and its
fast-path probe.

Standard library only, like the script that loads it by path on the GPU machine.
"""

ENDPOINT = "/generate"  # the Space's own endpoint
ESTIMATOR = "generate_duration"


def estimator_arguments(args: list) -> list:
    """The report's arguments as the estimator takes them (the same)."""
    return list(args)


# The fast-path module the app imports when its fast path is on (the probe is planted only then).
FAST_PATH = "fast_unet"
# The fast path checked in the call's forked worker, under spaces (issue 13), pasted into app.py before its launch.
FAST_PATH_PROBE = '''

@spaces.GPU(duration=30)
def planted_fast_path() -> dict:
    """The UNet's graphs against its eager forward on the same request, in the worker."""
    request = dict(prompt="a red cube on a table", num_inference_steps=4, guidance_scale=5.0, width=256, height=256,
                   output_type="np")
    graphed = pipe.unet.forward
    fast = pipe(**request, generator=torch.Generator(device=device).manual_seed(0)).images
    pipe.unet.forward = graphed.eager
    try:
        eager = pipe(**request, generator=torch.Generator(device=device).manual_seed(0)).images
    finally:
        pipe.unet.forward = graphed
    entries = [entry for entry in graphed.entries.values() if entry is not None]
    return {"graphs_in_use": sum(entry.graph is not None and not entry.checks_left for entry in entries),
            "same_pixels": bool((abs(fast - eager) * 255).max() < 1), "worker_pid": _os.getpid()}


with demo:
    gr.api(planted_fast_path, api_name="planted_fast_path")
'''
