"""The app kinds a Space can be, read from `kinds/<name>/kind.yml` beside this template.

Adding a kind means adding a folder there (kind.yml, app.py.jinja, tiny_model.py, test_app.py): the question's
choices, the defaults and the includes all come from this registry.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from jinja2.ext import Extension

KINDS_DIR = Path(__file__).resolve().parent.parent / "kinds"
KIND_FILES = ("kind.yml", "app.py.jinja", "tiny_model.py", "test_app.py")
KIND_KEYS = ("label", "model_id", "short_description", "emoji", "python_versions", "dependencies", "attention")


def load_kinds(kinds_dir: Path = KINDS_DIR) -> dict[str, dict]:
    """Each kind's metadata by name, in a stable order."""
    kinds = {}
    for kind_file in sorted(kinds_dir.glob("*/kind.yml")):
        missing = [name for name in KIND_FILES if not (kind_file.parent / name).is_file()]
        if missing:
            raise FileNotFoundError(f"The app kind {kind_file.parent.name!r} lacks {', '.join(missing)}.")
        kind = yaml.safe_load(kind_file.read_text(encoding="utf-8"))
        missing = [key for key in KIND_KEYS if key not in kind]
        if missing or "sdpa" not in kind["attention"]:
            raise ValueError(f"{kind_file} lacks {', '.join(missing) or 'the sdpa attention backend'}.")
        kinds[kind_file.parent.name] = kind
    return kinds


def kind_file(kind: str, name: str, kinds_dir: Path = KINDS_DIR) -> str:
    """The text of one of a kind's plain files (tiny_model.py, test_app.py), copied as is: never rendered as Jinja."""
    if name.endswith(".jinja"):
        raise ValueError(f"{name} is a template: include it instead.")
    return (kinds_dir / kind / name).read_text(encoding="utf-8")


class KindsExtension(Extension):
    """Exposes the registry as the Jinja global `kinds`, and each kind's plain files through `kind_file`."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.globals.update(kinds=load_kinds(), kind_file=kind_file)
