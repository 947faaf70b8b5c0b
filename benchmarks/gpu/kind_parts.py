"""A kind's own part of a GPU benchmark, `kinds/<kind>/<name>.py`: loaded by path (the kinds' folders are not a
package, and two kinds' parts share file names), once per process. Standard library only."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

KINDS_DIR = Path(__file__).resolve().parents[2] / "kinds"
SPACES = KINDS_DIR.parent / ".gpu-spaces"  # the Spaces benchmarks/gpu/prepare_calibrate.sh renders, one per folder


def rendered_spaces() -> list[str]:
    """The folders of .gpu-spaces/ that hold a rendered Space (<kind>, and <kind>-aoti for a kind with AoTI)."""
    return sorted(path.name for path in SPACES.iterdir() if (path / "app.py").is_file()) if SPACES.is_dir() else []


def load(kind: str, name: str) -> ModuleType:
    """kinds/<kind>/<name>.py as a module, registered under a name of its own (`<kind>_<name>`, dashes as _)."""
    module_name = f"{kind.replace('-', '_')}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = KINDS_DIR / kind / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"The kind {kind!r} has no {path.name} for this benchmark ({path}).")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def kind_of(module_file: str) -> str:
    """The kind whose folder holds a part (its `__file__`), for a part that loads a sibling."""
    return Path(module_file).resolve().parent.name
