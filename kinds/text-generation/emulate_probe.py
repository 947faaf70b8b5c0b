"""What benchmarks/gpu/emulate_on_gpu.py needs from the text-generation kind: its endpoint, its estimator and its
fast-path probe.

Standard library only, like the script that loads it by path on the GPU machine.
"""

ENDPOINT = "/chat"  # the Space's own endpoint
ESTIMATOR = "chat_duration"


def estimator_arguments(args: list) -> list:
    """The report's arguments as the estimator takes them (the chat history the endpoint leaves out)."""
    return [args[0], [], *args[1:]]


# The fast-path module the app imports when its fast path is on (the probe is planted only then).
FAST_PATH = "fast_decode"
# The fast path checked in the call's forked worker, under spaces (issue 13), pasted into app.py before its launch.
FAST_PATH_PROBE = '''

@spaces.GPU(duration=30)
def planted_fast_path() -> dict:
    """The chat's fast decode, its step replayed from CUDA graphs, against the same step run eagerly (what the graphs
    must equal: transformers' own generate attends with SDPA, other arithmetic, so on a random tiny model its greedy
    tokens part from both within a few tokens), greedy, in the worker."""
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": "Hello there"}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True).to(device)
    fast = fast_decode.generate(model, **inputs, do_sample=False, max_new_tokens=24)
    decoders = [decoder for _, decoder in fast_decode.POOL.idle]
    graphed, fast_decode.POOL = fast_decode.POOL, fast_decode.Pool(False)
    try:
        eager = fast_decode.generate(model, **inputs, do_sample=False, max_new_tokens=24)
        again = fast_decode.generate(model, **inputs, do_sample=False, max_new_tokens=24)  # eager against itself
    finally:
        fast_decode.POOL = graphed
    transformers = model.generate(**inputs, do_sample=False, max_new_tokens=24)

    def agreed(a, b) -> int:  # how many leading tokens two answers share
        a, b = a[0].tolist(), b[0].tolist()
        return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))

    return {"graphs_in_use": sum(decoder.graph is not None and not decoder.checks_left for decoder in decoders),
            "same_tokens": fast.cpu().tolist() == eager.cpu().tolist(), "eager_repeats": eager.tolist() == again.tolist(),
            "agreed_fast_eager": agreed(fast, eager), "agreed_fast_transformers": agreed(fast, transformers),
            "worker_pid": _os.getpid()}


with demo:
    gr.api(planted_fast_path, api_name="planted_fast_path")
'''
