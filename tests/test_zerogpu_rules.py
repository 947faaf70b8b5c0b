"""Each ZeroGPU rule check of a rendered Space (zerogpu/rules.py) fails on a Space where that rule is broken.

Every kind is rendered once; each case copies one, breaks one rule by editing a rendered file as an author might,
and runs the Space's own rules module (plain Python: it runs here without the Space's dependencies).
"""

import ast
import importlib
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TEMPLATE_DIR, render

from extensions.kinds import load_kinds

KINDS = load_kinds(TEMPLATE_DIR / "kinds")
# A kind whose app writes output files (the break of no-fixed-output-path the command-line test plants).
WRITES_FILES = next(kind for kind, meta in KINDS.items() if meta["writes_files"])
FIRST_LINE = "import spaces  # ZeroGPU: imported before torch, so that it can take over CUDA\n"


@pytest.fixture(scope="session")
def rendered(copie_session) -> dict[str, Path]:
    return {kind: render(copie_session, app_kind=kind).project_dir for kind in KINDS}


@pytest.fixture(scope="session")
def rules(rendered):
    """The rules module of a rendered Space (the same file in every Space)."""
    space = str(next(iter(rendered.values())))
    sys.path.insert(0, space)
    try:
        return importlib.import_module("zerogpu.rules")
    finally:
        sys.path.remove(space)


def gpu_handler(rules, space: Path) -> tuple[str, str]:
    """The name of the Space's GPU handler and of its duration estimator, as the rules see them."""
    handler = next(handler for handler in rules.Space(space).app.handlers if isinstance(handler.duration, ast.Name))
    return handler.name, ast.unparse(handler.duration)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer contains {old!r}: update this break"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def edit_re(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed, count = re.subn(pattern, replacement, text, count=1, flags=re.DOTALL | re.MULTILINE)
    assert count == 1, f"{path.name} has no match for {pattern!r}: update this break"
    path.write_text(changed, encoding="utf-8")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


# Each break: (rule it breaks, a name for the case, edit(space_dir, handler, estimator), rules expected to fail).
Break = tuple[str, str, Callable[[Path, str, str], None], set[str]]


def spaces_after_torch(space, handler, estimator):
    edit(space / "app.py", FIRST_LINE + "\n", "")
    edit(space / "app.py", "import torch\n", "import torch\n\nimport spaces\n")


def fallback(space, handler, estimator):
    stand_in = (
        "try:\n    import spaces\nexcept ImportError:  # run without the package\n\n"
        "    class spaces:\n        @staticmethod\n        def GPU(task=None, **kwargs):\n"
        "            return task if callable(task) else (lambda f: f)\n"
    )
    edit(space / "app.py", FIRST_LINE, stand_in)


def compiled(space, handler, estimator):
    edit_re(space / "app.py", r"^(model|pipe) = .*?$", r"\g<0>\n\g<1> = torch.compile(\g<1>)")


def made_async(space, handler, estimator):
    edit(space / "app.py", f"\ndef {handler}(", f"\nasync def {handler}(")


def called_in_loop(space, handler, estimator):
    append(
        space / "app.py",
        f"\n\ndef {handler}_all(requests):\n    return [{handler}(*request) for request in requests]\n",
    )


def writes_files(space: Path) -> bool:
    """Whether the Space's handler returns an output file (output_files.py, the kinds whose kind.yml says so)."""
    return (space / "output_files.py").is_file()


def fixed_path(space, handler, estimator):
    if writes_files(space):
        saved = r'^    output = output_files\.new\("\.png"\)\n    (\w+)\.save\(output, format="PNG"\)\n    return str\(output\)\n'
        edit_re(space / "app.py", saved, '    \\1.save("output.png")\n    return "output.png"\n')
    else:
        edit(space / "app.py", "    if failures:\n", '    with open("reply.txt", "w") as saved:\n'
             "        saved.write(reply)\n    if failures:\n")  # fmt: skip


def cuda_return(space, handler, estimator):
    if writes_files(space):
        edit(space / "app.py", "    return str(output)\n", "    return torch.ones(1).to(device)\n")
    else:
        edit(space / "app.py", "        yield reply\n", '        yield inputs["input_ids"]\n')


def no_duration(space, handler, estimator):
    edit(space / "app.py", f"@spaces.GPU(duration={estimator}, size=", "@spaces.GPU(size=")


def bare_decorator(space, handler, estimator):
    edit_re(space / "app.py", r"^@spaces\.GPU\(.*?\)$", "@spaces.GPU")


def estimator_loses_parameters(space, handler, estimator):
    # Every parameter after the first is dropped (whatever the first one's annotation: text, an image, ...).
    edit_re(space / "app.py", rf"def {estimator}\(\s*(\w+: [^,]+),.*?\) -> int:", rf"def {estimator}(\1) -> int:")


def handler_takes_request(space, handler, estimator):
    # First: Gradio injects a gr.Request wherever it is declared, and a parameter after a default one could not be.
    edit_re(space / "app.py", rf"(\ndef {handler}\()", r"\1request: gr.Request, ")


def python_unquoted(space, handler, estimator):
    edit_re(space / "README.md", r'^python_version: "(3\.\d+)"$', r"python_version: \1")


def python_missing(space, handler, estimator):
    edit_re(space / "README.md", r'^python_version: "3\.\d+"\n', "")


def python_unsupported(space, handler, estimator):
    edit_re(space / "README.md", r'^python_version: "3\.\d+"$', 'python_version: "3.11"')


def python_disagrees(space, handler, estimator):
    (space / ".python-version").write_text("3.11\n")


def spaces_required(space, handler, estimator):
    append(space / "requirements.txt", "\nspaces==0.51.3\n")


def gradio_required(space, handler, estimator):
    append(space / "requirements.txt", "\ngradio[oauth]==6.31.0  # pinned by hand\n")


BREAKS: list[Break] = [
    ("import-spaces-first", "after-torch", spaces_after_torch, {"import-spaces-first"}),
    ("no-spaces-fallback", "try-except", fallback, {"no-spaces-fallback", "import-spaces-first"}),
    ("no-torch-compile", "compiled-model", compiled, {"no-torch-compile"}),
    ("no-async-gpu-handler", "async-def", made_async, {"no-async-gpu-handler"}),
    ("no-gpu-call-in-loop", "comprehension", called_in_loop, {"no-gpu-call-in-loop"}),
    ("no-fixed-output-path", "fixed-file", fixed_path, {"no-fixed-output-path"}),
    ("no-cuda-return", "cuda-tensor", cuda_return, {"no-cuda-return"}),
    ("duration-given", "no-duration", no_duration, {"duration-given"}),
    ("duration-given", "bare-decorator", bare_decorator, {"duration-given"}),
    ("estimator-takes-handler-args", "fewer-parameters", estimator_loses_parameters, {"estimator-takes-handler-args"}),
    ("estimator-takes-handler-args", "gradio-request", handler_takes_request, {"estimator-takes-handler-args"}),
    ("python-version-pinned", "unquoted", python_unquoted, {"python-version-pinned"}),
    ("python-version-pinned", "missing", python_missing, {"python-version-pinned"}),
    ("python-version-pinned", "unsupported", python_unsupported, {"python-version-pinned"}),
    ("python-version-pinned", "python-version-file", python_disagrees, {"python-version-pinned"}),
    ("requirements-without-builder-packages", "spaces", spaces_required, {"requirements-without-builder-packages"}),
    ("requirements-without-builder-packages", "gradio", gradio_required, {"requirements-without-builder-packages"}),
]  # fmt: skip


def test_every_rule_has_a_break(rules):
    assert {rule for rule, *_ in BREAKS} == set(rules.RULES)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_rendered_space_keeps_every_rule(rules, rendered, kind):
    assert [str(violation) for violation in rules.check(rendered[kind])] == []


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("rule", "case", "breaks", "expected"), BREAKS, ids=[f"{b[0]}-{b[1]}" for b in BREAKS])
def test_each_rule_fails_where_it_is_broken(rules, rendered, tmp_path, kind, rule, case, breaks, expected):
    space = tmp_path / "space"
    shutil.copytree(rendered[kind], space)
    breaks(space, *gpu_handler(rules, space))
    violations = rules.check(space)
    assert {violation.rule for violation in violations} == expected, [str(v) for v in violations]
    for violation in violations:
        assert f"[{violation.rule}]" in str(violation) and " Fix: " in str(violation), violation


def test_the_command_line_exits_1_and_names_the_rule(rules, rendered, tmp_path):
    space = tmp_path / "space"
    shutil.copytree(rendered[WRITES_FILES], space)
    command = [sys.executable, "-m", "zerogpu.rules"]
    clean = subprocess.run(command, cwd=space, check=False, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    fixed_path(space, *gpu_handler(rules, space))
    broken = subprocess.run(command, cwd=space, check=False, capture_output=True, text=True)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "app.py:" in broken.stdout and "[no-fixed-output-path]" in broken.stdout and "'output.png'" in broken.stdout
