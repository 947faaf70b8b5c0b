"""The Space's ZeroGPU tooling, owned by the copier-zerogpu template; nothing here is imported by app.py."""
