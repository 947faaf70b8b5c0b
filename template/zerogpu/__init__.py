"""The Space's ZeroGPU tooling, owned by the copier-zerogpu template (`copier update` keeps it current).

- `zerogpu.rules`: static checks of the ZeroGPU rules over the Space's files (`python -m zerogpu.rules`).
- `zerogpu.contract`: calls each `@spaces.GPU` handler the way ZeroGPU does, on CPU (used by `tests/`).
- `zerogpu.fake_device_api`: a loopback fake of the ZeroGPU device API that the real `spaces` package talks to.
- `zerogpu.emulate`: runs the Space under the real `spaces` package in ZeroGPU mode, on a machine with an NVIDIA GPU
  (`python -m zerogpu.emulate`).
- `zerogpu.calibrate`: fits durations.json's coefficients on a local GPU (`python -m zerogpu.calibrate`).
- `zerogpu.settings`: the caps each GPU request is checked against (pyproject.toml's [tool.zerogpu]).

Nothing here is imported by app.py: the Space runs without it.
"""
