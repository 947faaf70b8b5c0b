"""ZeroGPU's platform facts are written once, in template/zerogpu/platform.py, and read everywhere else.

The questions (copier.yml, through extensions/platform_facts.py), flash-attn's wheel lookup, the rules, the contract,
calibrate and the fake device API all read that file; a second copy of a fact, where this test can recognise one,
fails it.
"""

import ast
import re
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from conftest import TEMPLATE_DIR

from extensions import flash_attn
from extensions.kinds import KindsExtension, default_kind
from extensions.platform_facts import PLATFORM_FILE, PlatformExtension, load_platform

FACTS = load_platform()
PYTHON_MINORS = set(FACTS["PYTHONS"])
PYTHON_PATCHES = set(FACTS["PYTHONS"].values())
TORCH_VERSIONS = set(FACTS["TORCH_VERSIONS"])
SIZE_NAMES = set(FACTS["GPU_SIZES"])
# Names under which a cap or factor would be written again, and the values they would hold.
FACT_NAMES = re.compile(
    r"max_request_seconds|quota_left_seconds|duration_factor|grant_factor|quota_factor", re.IGNORECASE
)
FACT_VALUES = {FACTS["MAX_REQUEST_SECONDS"]} | {
    value for size in FACTS["GPU_SIZES"].values() for value in (size.grant_factor, size.quota_factor) if value != 1
}
# What is not code: prose may explain the facts (docs, the changelog, READMEs); the shipped durations.json files
# record the factors a calibration used.
NOT_CODE = ("docs/", "CHANGELOG.md", "README.md", "template/README.md.jinja")
SCANNED = (".py", ".jinja", ".yml", ".yaml", ".toml", ".sh", ".txt")


def literal_strings(node: ast.AST) -> set[str]:
    elements = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", [])
    return {
        element.value for element in elements if isinstance(element, ast.Constant) and isinstance(element.value, str)
    }


def python_copies(source: str) -> list[str]:
    """Where Python source writes a platform fact again: a collection of ZeroGPU's Pythons, torch releases or GPU
    sizes, a Python patch release, or a cap or factor given as a number under a fact's name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
            strings = literal_strings(node)
            if PYTHON_MINORS <= strings or strings & PYTHON_PATCHES or len(strings & TORCH_VERSIONS) >= 3:
                found.append(f"line {node.lineno}: {ast.unparse(node)[:80]}")
            elif SIZE_NAMES <= strings:
                found.append(f"line {node.lineno}: the GPU sizes {ast.unparse(node)[:80]}")
        pairs = []
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            pairs = [(ast.unparse(target), node.value) for target in targets]
        elif isinstance(node, ast.keyword) and node.arg:
            pairs = [(node.arg, node.value)]
        elif isinstance(node, ast.arguments):
            positional = node.posonlyargs + node.args
            with_defaults = positional[len(positional) - len(node.defaults) :]
            pairs = [(arg.arg, default) for arg, default in zip(with_defaults, node.defaults, strict=True)]
            pairs += [(arg.arg, default) for arg, default in zip(node.kwonlyargs, node.kw_defaults, strict=True)]
        elif isinstance(node, ast.Call):  # parser.add_argument("--max-request-seconds", default=...)
            names = [arg.value.replace("-", "_") for arg in node.args if isinstance(arg, ast.Constant)
                     and isinstance(arg.value, str)]  # fmt: skip
            pairs = [(name, keyword.value) for name in names for keyword in node.keywords if keyword.arg == "default"]
        for name, value in pairs:
            if FACT_NAMES.search(name) and isinstance(value, ast.Constant) and value.value in FACT_VALUES:
                found.append(f"line {value.lineno}: {name} = {value.value!r}")
    return found


def text_copies(text: str) -> list[str]:
    """Where a YAML, TOML, Jinja or shell file writes a platform fact again: a list of torch releases, a Python
    patch release, or a cap in TOML."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        versions = set(re.findall(r"\b\d+\.\d+\.\d+\b", line))
        if versions & PYTHON_PATCHES or len(versions & TORCH_VERSIONS) >= 3:
            found.append(f"line {number}: {line.strip()[:80]}")
        if re.match(r"\s*(max-request-seconds|duration-factor)\s*=\s*[\d.]+", line):
            found.append(f"line {number}: {line.strip()[:80]}")
    return found


def copies_in(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return python_copies(text)
    return text_copies(text)


def repository_files() -> list[Path]:
    """The repository's files, tracked or not yet added, without what git ignores (virtual environments, caches, the
    Spaces rendered for GPU runs under .gpu-*)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=TEMPLATE_DIR, check=True,
                            capture_output=True, text=True).stdout.splitlines()  # fmt: skip
    return [
        TEMPLATE_DIR / name
        for name in listed
        if Path(name).suffix in SCANNED
        and (TEMPLATE_DIR / name).is_file()
        and not name.startswith(NOT_CODE)
        and TEMPLATE_DIR / name != PLATFORM_FILE
    ]


def test_no_second_copy_of_a_platform_fact():
    copies = {str(path.relative_to(TEMPLATE_DIR)): found for path in repository_files() if (found := copies_in(path))}
    assert not copies, "Platform facts written outside template/zerogpu/platform.py (read them from it):\n" + "\n".join(
        f"  {path} {where}" for path, found in sorted(copies.items()) for where in found
    )


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ('TORCH = ["2.8.0", "2.9.1", "2.10.0"]\n', "python"),
        ('PYTHONS = ("3.10", "3.12")\n', "python"),
        ('print("3.12.12")\nX = {"3.12.12"}\n', "python"),
        ('for size in ("large", "xlarge"):\n    pass\n', "python"),
        ("class Limits:\n    max_request_seconds: int = 120\n", "python"),
        ("def f(*, duration_factor=1.5):\n    pass\n", "python"),
        ("Target('x', grant_factor=1.5)\n", "python"),
        ('parser.add_argument("--max-request-seconds", type=int, default=120)\n', "python"),
        ('choices: ["2.8.0", "2.9.1", "2.10.0", "2.11.0"]\n', "text"),
        ("max-request-seconds = 120\n", "text"),
    ],
)
def test_the_scan_finds_a_planted_copy(source, kind):
    """The scan above is only as good as what it recognises: each of these copies is found."""
    assert (python_copies if kind == "python" else text_copies)(source)


def test_the_scan_lets_reads_and_other_numbers_pass():
    assert not python_copies("timeout = 120\nratio = 1.5\nmax_request_seconds = MAX_REQUEST_SECONDS\n")
    assert not text_copies("max-request-seconds = {{ zerogpu.MAX_REQUEST_SECONDS }}\n")


def test_the_questions_offer_the_platform_s_choices_and_defaults():
    """copier.yml's python_version, torch_version and gpu_size read their choices and defaults from the facts."""
    environment = jinja2.Environment(extensions=[KindsExtension, PlatformExtension, flash_attn.FlashAttnExtension])
    questions = yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text(encoding="utf-8"))

    def choices(key: str):
        return yaml.safe_load(environment.from_string(questions[key]["choices"]).render(app_kind=default_kind()))

    def default(key: str) -> str:
        return environment.from_string(questions[key]["default"]).render()

    assert list(choices("python_version")) == list(FACTS["PYTHONS"])
    assert default("python_version") == next(iter(FACTS["PYTHONS"]))
    assert choices("torch_version") == list(FACTS["TORCH_VERSIONS"])
    assert default("torch_version") == FACTS["TORCH_VERSIONS"][0]
    assert list(choices("gpu_size").values()) == list(FACTS["GPU_SIZES"])
    assert default("gpu_size") == next(iter(FACTS["GPU_SIZES"]))
    assert set(flash_attn.ZEROGPU_PYTHON_VERSIONS) == set(FACTS["PYTHONS"])
    assert flash_attn.ZEROGPU_TORCH_VERSIONS == FACTS["TORCH_VERSIONS"]


def test_a_space_carries_the_facts_as_the_template_has_them(copie_no_tasks):
    """The Space's tooling reads the same file: it is copied, never rendered."""
    from conftest import render

    project = render(copie_no_tasks).project_dir
    assert (project / "zerogpu" / "platform.py").read_bytes() == PLATFORM_FILE.read_bytes()
