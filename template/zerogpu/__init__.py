"""The Space's ZeroGPU tooling, owned by the copier-zerogpu template (`copier update` keeps it current).

- `zerogpu.rules`: static checks of the ZeroGPU rules over the Space's files (`python -m zerogpu.rules`).
- `zerogpu.settings`: the caps each GPU request is checked against (pyproject.toml's [tool.zerogpu]).

Nothing here is imported by app.py: the Space runs without it.
"""
