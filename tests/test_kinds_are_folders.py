"""A kind is a folder: nothing outside kinds/ and the docs names a kind, so that a new kind is a new folder.

The names are each kind's folder name and its fast-path module (kind.yml's fast_path). The template, the extensions
and copier.yml read kinds only through extensions/kinds.py; the repository's browser tests and GPU benchmarks load
each kind's own part from its folder (browser_checks.py, emulate_probe.py, full_size_model.py, calibrate_on_gpu.py,
fast_path_on_gpu.py).
"""

import re
import subprocess

from conftest import TEMPLATE_DIR

from extensions.kinds import load_kinds

KINDS = load_kinds(TEMPLATE_DIR / "kinds")
NAMES = sorted({*KINDS, *(meta["fast_path"].removesuffix(".py") for meta in KINDS.values() if meta["fast_path"])})
NAMED = re.compile("|".join(rf"(?<![A-Za-z0-9-]){re.escape(name)}(?!\w)" for name in NAMES))
# Prose may name kinds: the docs, READMEs, the changelog, and the Space's own README (it describes that Space).
PROSE = re.compile(r"^(docs/|kinds/)|\.md$|^template/README\.md\.jinja$")


def code_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=TEMPLATE_DIR, check=True,
                            capture_output=True, text=True).stdout.split()  # fmt: skip
    return [path for path in listed if not PROSE.search(path) and (TEMPLATE_DIR / path).is_file()]


def naming(path: str) -> list[str]:
    text = (TEMPLATE_DIR / path).read_text(encoding="utf-8", errors="replace")
    return [f"{path}:{number}: {line.strip()[:90]}" for number, line in enumerate(text.splitlines(), 1)
            if NAMED.search(line)]  # fmt: skip


def test_nothing_outside_kinds_names_a_kind():
    found = [line for path in code_files() for line in naming(path)]
    assert not found, "Kind-specific knowledge outside kinds/ (move it into the kind's folder):\n" + "\n".join(found)


def test_the_scan_sees_a_kind_named_in_code(tmp_path):
    name = next(iter(KINDS))
    assert NAMED.search(f'KINDS = ("{name}",)') and not NAMED.search(f"{name}x = 1")
    assert NAMED.search(f'SPACE = ".gpu-spaces/{name}-aoti"'), "a name with a suffix still names the kind"
