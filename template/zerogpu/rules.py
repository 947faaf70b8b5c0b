"""Static checks of the ZeroGPU rules over the Space's files, each naming the rule it enforces and the fix.

Run `python -m zerogpu.rules [SPACE_DIR]`: it prints one line per violation and exits 1 if there is any.
`tests/test_zerogpu_rules.py` runs every rule. The Python files checked are the app file (README's `app_file`) and
every other module of the Space, except tests/, zerogpu/ and hidden or virtual-environment folders.

Static checks cannot see everything (a CUDA tensor that comes back from a library call, say): zerogpu/contract.py
calls the handlers for real. This module needs only the standard library, packaging and huggingface_hub.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from zerogpu.platform import PYTHONS as ZEROGPU_PYTHONS
from zerogpu.settings import tomllib

BUILDER_PACKAGES = {"gradio", "spaces"}  # the Space builder installs these itself, next to requirements.txt
SKIPPED_FOLDERS = {"tests", "zerogpu", "venv", "env", "build", "dist", "node_modules", "site-packages", "__pycache__"}


@dataclass(frozen=True)
class Violation:
    rule: str
    path: str
    line: int
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.problem} Fix: {self.fix}"


@dataclass
class GpuHandler:
    """A function that ZeroGPU runs on a GPU: decorated with `@spaces.GPU` or wrapped by `spaces.GPU(...)(f)`."""

    name: str  # the name callers use
    function: ast.FunctionDef | ast.AsyncFunctionDef | None
    gpu_call: ast.expr  # the decorator, or the spaces.GPU(...) call
    duration: ast.expr | None
    size: ast.expr | None
    line: int


class Module:
    """One Python file of the Space, parsed, with the names it gives to `spaces` and `spaces.GPU`."""

    def __init__(self, path: Path, relative: str):
        self.path = path
        self.relative = relative
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.spaces_names = {"spaces"}
        self.gpu_names: set[str] = set()
        self.torch_names = {"torch"}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "spaces":
                        self.spaces_names.add(alias.asname or "spaces")
                    if alias.name == "torch":
                        self.torch_names.add(alias.asname or "torch")
            elif isinstance(node, ast.ImportFrom) and node.module == "spaces":
                self.gpu_names |= {alias.asname or alias.name for alias in node.names if alias.name == "GPU"}

    @cached_property
    def functions(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        return {node.name: node for node in self.tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}

    @cached_property
    def constants(self) -> dict[str, ast.expr]:
        """Module-level names bound once to a value: `OUTPUT = "out.png"`, `device = torch.device(...)`."""
        bound: dict[str, list[ast.expr]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        bound.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                bound.setdefault(node.target.id, []).append(node.value)
        return {name: values[0] for name, values in bound.items() if len(values) == 1}

    def is_gpu(self, expression: ast.expr) -> bool:
        if isinstance(expression, ast.Attribute) and expression.attr == "GPU":
            return isinstance(expression.value, ast.Name) and expression.value.id in self.spaces_names
        return isinstance(expression, ast.Name) and expression.id in self.gpu_names

    @cached_property
    def startup_calls(self) -> set[str]:
        """Names of the functions the app calls at module scope: GPU functions among them run once at start-up
        (ahead-of-time compilation), not per request."""
        names = set()
        for statement in self.tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    names.add(node.func.id)
        return names

    @cached_property
    def handlers(self) -> list[GpuHandler]:
        handlers = []
        for function in self.functions.values():
            for decorator in function.decorator_list:
                if self.is_gpu(decorator):
                    handlers.append(GpuHandler(function.name, function, decorator, None, None, decorator.lineno))
                elif isinstance(decorator, ast.Call) and self.is_gpu(decorator.func):
                    duration, size = _duration_and_size(decorator)
                    handlers.append(GpuHandler(function.name, function, decorator, duration, size, decorator.lineno))
        for node in self.tree.body:  # handler = spaces.GPU(f, ...) or handler = spaces.GPU(...)(f)
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            call, wrapped = node.value, None
            if self.is_gpu(call.func) and call.args and isinstance(call.args[0], ast.Name):
                wrapped, options = call.args[0].id, ast.Call(call.func, call.args[1:], call.keywords)
            elif isinstance(call.func, ast.Call) and self.is_gpu(call.func.func) and call.args:
                wrapped, options = ast.unparse(call.args[0]), call.func
            if wrapped is None:
                continue
            duration, size = _duration_and_size(options)
            for target in node.targets:
                if isinstance(target, ast.Name):
                    function = self.functions.get(wrapped)
                    handlers.append(GpuHandler(target.id, function, call, duration, size, node.lineno))
                    if function is not None and target.id != wrapped:
                        handlers.append(GpuHandler(wrapped, function, call, duration, size, node.lineno))
        return handlers

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def violation(self, rule: str, node: ast.AST | None, problem: str, fix: str) -> Violation:
        return Violation(rule, self.relative, getattr(node, "lineno", 1), problem, fix)


def _duration_and_size(call: ast.Call) -> tuple[ast.expr | None, ast.expr | None]:
    """The duration and size of `spaces.GPU(...)`, read as spaces does: a positional str is the size, else the
    duration."""
    options = {keyword.arg: keyword.value for keyword in call.keywords}
    duration, size = options.get("duration"), options.get("size")
    if call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            size = first
        else:
            duration = first
    return duration, size


class Space:
    """The Space's files, parsed on demand."""

    def __init__(self, root: Path | str = "."):
        self.root = Path(root).resolve()

    @cached_property
    def readme(self) -> str:
        path = self.root / "README.md"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    @cached_property
    def frontmatter(self) -> dict:
        from huggingface_hub import metadata_load

        path = self.root / "README.md"
        return (metadata_load(path) or {}) if path.is_file() else {}

    @cached_property
    def app_file(self) -> str:
        return str(self.frontmatter.get("app_file") or "app.py")

    @cached_property
    def modules(self) -> list[Module]:
        """The app file first, then the Space's other Python files."""
        paths = [self.root / self.app_file] if (self.root / self.app_file).is_file() else []
        for path in sorted(self.root.rglob("*.py")):
            parts = path.relative_to(self.root).parts[:-1]
            if any(part.startswith(".") or part in SKIPPED_FOLDERS for part in parts) or path in paths:
                continue
            paths.append(path)
        return [Module(path, path.relative_to(self.root).as_posix()) for path in paths]

    @cached_property
    def app(self) -> Module | None:
        return self.modules[0] if self.modules and self.modules[0].relative == self.app_file else None


Rule = Callable[[Space], Iterator[Violation]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(check: Rule) -> Rule:
        RULES[name] = check
        return check

    return register


@rule("import-spaces-first")
def import_spaces_first(space: Space) -> Iterator[Violation]:
    module = space.app
    fix = "make `import spaces` the first statement of the app file, before torch and anything that imports it."
    if module is None:
        yield Violation("import-spaces-first", space.app_file, 1, f"{space.app_file} is missing.", fix)
        return
    body = list(module.tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    while body and isinstance(body[0], ast.ImportFrom) and body[0].module == "__future__":
        body = body[1:]
    first = body[0] if body else None
    if not (isinstance(first, ast.Import) and [alias.name for alias in first.names] == ["spaces"]):
        yield module.violation(
            "import-spaces-first",
            first,
            "`import spaces` is not the first statement: on ZeroGPU it must take over CUDA before torch touches it "
            '("CUDA has been initialized before importing the `spaces` package").',
            fix,
        )


@rule("no-spaces-fallback")
def no_spaces_fallback(space: Space) -> Iterator[Violation]:
    fix = (
        "`import spaces` unconditionally at the top and keep `spaces` in pyproject.toml: off ZeroGPU @spaces.GPU "
        "is already a no-op, so a fallback only hides the package and drifts from its API."
    )
    for module in space.modules:
        for node in ast.walk(module.tree):
            imported = (isinstance(node, ast.Import) and any(alias.name == "spaces" for alias in node.names)) or (
                isinstance(node, ast.ImportFrom) and node.module == "spaces"
            )
            if imported and module.parents.get(node) is not module.tree:
                yield module.violation(
                    "no-spaces-fallback", node, "`spaces` is imported conditionally (inside a block).", fix
                )
            names = []
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names = [node.name]
            if "spaces" in names:
                yield module.violation(
                    "no-spaces-fallback", node, "the name `spaces` is redefined (a stand-in for the package).", fix
                )


@rule("no-torch-compile")
def no_torch_compile(space: Space) -> Iterator[Violation]:
    fix = "drop torch.compile, or compile ahead of time with spaces.aoti_capture/aoti_compile/aoti_apply (torch>=2.8)."
    for module in space.modules:
        for node in ast.walk(module.tree):
            uses = (
                isinstance(node, ast.Attribute)
                and node.attr in {"compile", "_dynamo"}
                and isinstance(node.value, ast.Name)
                and node.value.id in module.torch_names
            ) or (
                isinstance(node, ast.ImportFrom)
                and node.module in {"torch", "torch._dynamo"}
                and any(alias.name in {"compile", "optimize"} for alias in node.names)
            )
            if uses:
                yield module.violation("no-torch-compile", node, "ZeroGPU does not support torch.compile.", fix)


@rule("no-async-gpu-handler")
def no_async_gpu_handler(space: Space) -> Iterator[Violation]:
    for module in space.modules:
        for handler in module.handlers:
            if isinstance(handler.function, ast.AsyncFunctionDef):
                yield module.violation(
                    "no-async-gpu-handler",
                    handler.function,
                    f"{handler.name} is `async def`: on ZeroGPU spaces.GPU raises NotImplementedError for it.",
                    f"make {handler.name} a plain `def` (a generator to stream); Gradio runs it in a thread.",
                )


_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@rule("no-gpu-call-in-loop")
def no_gpu_call_in_loop(space: Space) -> Iterator[Violation]:
    for module in space.modules:
        handlers = {handler.name for handler in module.handlers}
        handler_functions = {handler.function for handler in module.handlers if handler.function is not None}
        for loop in ast.walk(module.tree):
            if not isinstance(loop, _LOOPS):
                continue
            owner = module.enclosing_function(loop)
            if owner in handler_functions:
                continue  # inside a GPU handler, nested calls run directly in its worker
            inner = loop.body if isinstance(loop, ast.For | ast.AsyncFor | ast.While) else [loop]
            for statement in inner:
                for node in ast.walk(statement):
                    called = None
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in handlers:
                        called = node.func.id
                    elif (
                        isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Name)
                        and node.func.id == "map"
                        and node.args
                        and isinstance(node.args[0], ast.Name)
                        and node.args[0].id in handlers
                    ):
                        called = node.args[0].id
                    if called:
                        where = owner.name if owner else "module scope"
                        yield module.violation(
                            "no-gpu-call-in-loop",
                            node,
                            f"the GPU handler {called} is called in a loop ({where}): every call is a new GPU "
                            "request, with its own pickling, queue and quota check, and a later one may get no GPU.",
                            f"decorate the function that owns the loop ({where}) with @spaces.GPU instead of {called}.",
                        )


_WRITERS = {
    "save", "savefig", "save_image", "imwrite", "imsave", "mimsave", "mimwrite", "write_videofile",
    "write_audiofile", "to_csv", "to_json", "to_parquet", "to_excel", "export", "export_to_video", "export_to_gif",
    "export_to_ply", "export_to_obj", "save_file", "save_pretrained", "copy", "copyfile", "copy2", "move",
    "write_text", "write_bytes", "touch", "write",
}  # fmt: skip
_PATH_KEYWORDS = {"fp", "f", "file", "filename", "fname", "path", "filepath", "output_path", "save_path", "dst", "uri"}
_PATHLIKE = re.compile(r"^[^\s]*(/|\.[A-Za-z0-9]{1,5})$")


def _fixed_text(module: Module, expression: ast.expr, depth: int = 0) -> str | None:
    """The text of an expression that is always the same string: "out.png", f"out.png", Path("a") / "b.wav",
    os.path.join("a", "b"), or a module-level name bound to one of these. None for anything that can vary."""
    if depth > 4:
        return None
    if isinstance(expression, ast.Constant):
        return expression.value if isinstance(expression.value, str) else None
    if isinstance(expression, ast.JoinedStr):
        parts = [_fixed_text(module, part, depth + 1) for part in expression.values]
        return "".join(parts) if all(part is not None for part in parts) else None  # type: ignore[arg-type]
    if isinstance(expression, ast.Name) and expression.id in module.constants:
        return _fixed_text(module, module.constants[expression.id], depth + 1)
    if isinstance(expression, ast.BinOp) and isinstance(expression.op, ast.Div | ast.Add):
        left, right = _fixed_text(module, expression.left, depth + 1), _fixed_text(module, expression.right, depth + 1)
        if left is None or right is None:
            return None
        return f"{left}/{right}" if isinstance(expression.op, ast.Div) else left + right
    if (
        isinstance(expression, ast.Call)
        and expression.args
        and not expression.keywords
        and ast.unparse(expression.func) in {"Path", "pathlib.Path", "PurePath", "os.path.join"}
    ):
        parts = [_fixed_text(module, argument, depth + 1) for argument in expression.args]
        return "/".join(parts) if all(part is not None for part in parts) else None  # type: ignore[arg-type]
    return None


def _constant_path(module: Module, expression: ast.expr) -> str | None:
    """A fixed text that looks like a file path (has a folder or an extension)."""
    text = _fixed_text(module, expression)
    return text if text and _PATHLIKE.match(text) else None


def _opens_for_writing(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and bool(set(mode.value) & set("wax+"))


@rule("no-fixed-output-path")
def no_fixed_output_path(space: Space) -> Iterator[Violation]:
    for module in space.modules:
        for call in ast.walk(module.tree):
            if not isinstance(call, ast.Call) or module.enclosing_function(call) is None:
                continue  # module scope runs once, at start-up: only request-time code races
            fixed = None
            name = call.func.attr if isinstance(call.func, ast.Attribute) else ast.unparse(call.func)
            if name in {"open", "io.open"} and call.args and _opens_for_writing(call):
                fixed = _constant_path(module, call.args[0])
            elif name.rsplit(".", 1)[-1] in _WRITERS:
                receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
                candidates = list(call.args) + [k.value for k in call.keywords if k.arg in _PATH_KEYWORDS]
                if name in {"write_text", "write_bytes", "touch"} and receiver is not None:
                    candidates = [receiver]  # Path("out.txt").write_text(...): the receiver is the file
                elif name == "write" and receiver is not None:
                    candidates = [receiver, *call.args[:1]]  # soundfile.write("out.wav", ...), not file.write(text)
                fixed = next((path for c in candidates if (path := _constant_path(module, c))), None)
            elif isinstance(call.func, ast.Attribute) and call.func.attr == "open" and _opens_for_writing(call):
                fixed = _constant_path(module, call.func.value)
            if fixed:
                yield module.violation(
                    "no-fixed-output-path",
                    call,
                    f"a request writes to the fixed path {fixed!r}: ZeroGPU runs requests concurrently, so two "
                    "visitors overwrite each other's file.",
                    "write each output to a new file of its own in Gradio's cache folder, and return that path: "
                    "output_files.new(suffix) where the Space has output_files.py, else "
                    "tempfile.mkstemp(dir=gr.utils.get_upload_folder(), suffix=...).",
                )


_ON_CPU = {"cpu", "numpy", "item", "tolist", "save", "decode", "batch_decode"}
_KEEPS_DEVICE = {
    "detach", "clone", "float", "half", "bfloat16", "double", "int", "long", "contiguous", "squeeze", "unsqueeze",
    "view", "reshape", "permute", "flatten", "transpose", "mul", "add", "sum", "mean", "argmax", "softmax",
}  # fmt: skip


class _CudaTracker:
    """Whether an expression inside a handler evaluates to a CUDA tensor, as far as the source shows."""

    def __init__(self, module: Module, function: ast.FunctionDef | ast.AsyncFunctionDef):
        self.module = module
        self.local: dict[str, ast.expr] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.local[node.targets[0].id] = node.value  # the last assignment, good enough for a heuristic

    def mentions_cuda(self, expression: ast.expr, depth: int = 0) -> bool:
        """A device expression that is CUDA on ZeroGPU: "cuda", torch.device("cuda"...), x.device, or the device
        idiom `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")` (CUDA on ZeroGPU)."""
        if depth > 4:
            return False
        if isinstance(expression, ast.Constant):
            return isinstance(expression.value, str) and expression.value.startswith("cuda")
        if isinstance(expression, ast.Attribute) and expression.attr == "device":
            return True
        if isinstance(expression, ast.Name):
            bound = self.local.get(expression.id, self.module.constants.get(expression.id))
            return bound is not None and self.mentions_cuda(bound, depth + 1)
        return any(
            isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("cuda")
            for node in ast.walk(expression)
        )

    def is_cuda(self, expression: ast.expr | None, depth: int = 0) -> bool:
        if expression is None or depth > 6:
            return False
        if isinstance(expression, ast.Tuple | ast.List | ast.Set):
            return any(self.is_cuda(element, depth + 1) for element in expression.elts)
        if isinstance(expression, ast.Dict):
            return any(self.is_cuda(value, depth + 1) for value in expression.values)
        if isinstance(expression, ast.Name) and expression.id in self.local:
            return self.is_cuda(self.local[expression.id], depth + 1)
        if isinstance(expression, ast.Subscript):
            return self.is_cuda(expression.value, depth + 1)
        if not isinstance(expression, ast.Call):
            return False
        method = expression.func.attr if isinstance(expression.func, ast.Attribute) else None
        if method in _ON_CPU:
            return False
        if method == "cuda":
            return True
        device_arguments = [k.value for k in expression.keywords if k.arg == "device"]
        if method == "to":
            device_arguments += expression.args[:1]
        if any(self.mentions_cuda(argument) for argument in device_arguments):
            return True
        if method in _KEEPS_DEVICE and isinstance(expression.func, ast.Attribute):
            return self.is_cuda(expression.func.value, depth + 1)
        return False


@rule("no-cuda-return")
def no_cuda_return(space: Space) -> Iterator[Violation]:
    for module in space.modules:
        for handler in module.handlers:
            if handler.function is None:
                continue
            tracker = _CudaTracker(module, handler.function)
            for node in ast.walk(handler.function):
                if isinstance(node, ast.Return | ast.Yield | ast.YieldFrom) and tracker.is_cuda(node.value):
                    yield module.violation(
                        "no-cuda-return",
                        node,
                        f"{handler.name} hands back a CUDA tensor (`{ast.unparse(node)}`): ZeroGPU pickles results "
                        'to the main process, where rebuilding it fails ("Low-level CUDA init '
                        '(`torch._C._cuda_init`) reached").',
                        "return CPU data: tensor.cpu(), .cpu().numpy(), .tolist(), a PIL image or a file path.",
                    )


@rule("duration-given")
def duration_given(space: Space) -> Iterator[Violation]:
    for module in space.modules:
        for handler in module.handlers:
            if handler.duration is None or (
                isinstance(handler.duration, ast.Constant) and handler.duration.value is None
            ):
                yield module.violation(
                    "duration-given",
                    handler.gpu_call,
                    f"{handler.name} gives no duration, so every call reserves the default 60 s: quota is checked "
                    "against the request, so visitors with less than 60 s left are refused even for short work.",
                    f"pass duration= to spaces.GPU: seconds, or a function of {handler.name}'s arguments that "
                    "estimates them.",
                )


def _signature(arguments: ast.arguments) -> inspect.Signature:
    """The signature a parameter list gives (defaults stand in as None, annotations are left out)."""
    Parameter = inspect.Parameter
    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    parameters = [
        Parameter(
            arg.arg,
            Parameter.POSITIONAL_ONLY if index < len(arguments.posonlyargs) else Parameter.POSITIONAL_OR_KEYWORD,
            default=None if index >= first_default else Parameter.empty,
        )
        for index, arg in enumerate(positional)
    ]
    if arguments.vararg:
        parameters.append(Parameter(arguments.vararg.arg, Parameter.VAR_POSITIONAL))
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        parameters.append(
            Parameter(arg.arg, Parameter.KEYWORD_ONLY, default=Parameter.empty if default is None else None)
        )
    if arguments.kwarg:
        parameters.append(Parameter(arguments.kwarg.arg, Parameter.VAR_KEYWORD))
    return inspect.Signature(parameters)


def accepts_call_of(estimator: ast.arguments, handler: ast.arguments) -> bool:
    """Whether the estimator can be called as ZeroGPU calls it: with the handler's arguments. Gradio passes every
    positional parameter (its injected gr.Request and gr.Progress included), keyword-only ones by name."""
    estimator_signature, handler_signature = _signature(estimator), _signature(handler)
    positional, keywords, kinds = [], {}, set()
    for parameter in handler_signature.parameters.values():
        kinds.add(parameter.kind)
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            positional.append(None)
        elif parameter.kind == parameter.KEYWORD_ONLY:
            keywords[parameter.name] = None
    estimator_kinds = {parameter.kind for parameter in estimator_signature.parameters.values()}
    for kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
        if kind in kinds and kind not in estimator_kinds:
            return False
    try:
        estimator_signature.bind(*positional, **keywords)
    except TypeError:
        return False
    return True


@rule("estimator-takes-handler-args")
def estimator_takes_handler_args(space: Space) -> Iterator[Violation]:
    for module in space.modules:
        for handler in module.handlers:
            duration = handler.duration
            if handler.function is None or duration is None:
                continue
            estimator, name = None, ast.unparse(duration)
            if isinstance(duration, ast.Lambda):
                estimator = duration.args
            elif isinstance(duration, ast.Name):
                if duration.id in module.functions:
                    estimator = module.functions[duration.id].args
                elif isinstance(module.constants.get(duration.id), ast.Lambda):
                    estimator = module.constants[duration.id].args
            if estimator is None or accepts_call_of(estimator, handler.function.args):
                continue  # a number of seconds, or a callable from elsewhere: zerogpu/contract.py calls it
            yield module.violation(
                "estimator-takes-handler-args",
                duration,
                f"the duration estimator {name}({ast.unparse(estimator)}) cannot take the arguments of "
                f"{handler.name}({ast.unparse(handler.function.args)}): ZeroGPU calls it with exactly the "
                "handler's arguments, Gradio's injected ones included, and the request fails if it raises.",
                f"give {name} the same parameters as {handler.name} (or *args, **kwargs).",
            )


@rule("python-version-pinned")
def python_version_pinned(space: Space) -> Iterator[Violation]:
    example = next(iter(ZEROGPU_PYTHONS))
    fix = (
        "pin it in README.md's frontmatter as a quoted string, "
        f'e.g. python_version: "{example}" ({" or ".join(ZEROGPU_PYTHONS)}).'
    )
    match = re.search(r"^python_version:[ \t]*(.*?)[ \t]*$", space.readme.split("\n---", 1)[0], re.MULTILINE)
    if match is None:
        yield Violation(
            "python-version-pinned", "README.md", 1, "README.md pins no python_version: Spaces default to 3.10.", fix
        )
        return
    line = space.readme[: match.start()].count("\n") + 1
    raw = match[1]
    quoted = re.fullmatch(r"""(["'])(3\.\d+(?:\.\d+)?)\1""", raw)
    if not quoted:
        yield Violation(
            "python-version-pinned",
            "README.md",
            line,
            f"python_version is {raw!r}, not a quoted version: YAML reads 3.10 as the number 3.1.",
            fix,
        )
        return
    version = quoted[2]
    minor = ".".join(version.split(".")[:2])
    if minor not in ZEROGPU_PYTHONS or version not in {minor, ZEROGPU_PYTHONS[minor]}:
        yield Violation(
            "python-version-pinned",
            "README.md",
            line,
            f"python_version {version} is not one ZeroGPU runs ({', '.join(sorted(ZEROGPU_PYTHONS.values()))}).",
            fix,
        )
        return
    local = space.root / ".python-version"
    if local.is_file() and local.read_text(encoding="utf-8").strip() not in {minor, version}:
        yield Violation(
            "python-version-pinned",
            ".python-version",
            1,
            f".python-version says {local.read_text(encoding='utf-8').strip()}, README.md says {version}.",
            "make both name the same Python, or `copier update --trust --data python_version=...`.",
        )
    pyproject = space.root / "pyproject.toml"
    if pyproject.is_file():
        requires = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("requires-python")
        if requires is not None and requires != f"=={minor}.*":
            yield Violation(
                "python-version-pinned",
                "pyproject.toml",
                1,
                f"requires-python is {requires!r}, README.md pins {version}: local runs would use another Python.",
                f'set requires-python = "=={minor}.*".',
            )


@rule("requirements-without-builder-packages")
def requirements_without_builder_packages(space: Space) -> Iterator[Violation]:
    path = space.root / "requirements.txt"
    if not path.is_file():
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith(("#", "-")):
            continue
        try:
            name = canonicalize_name(Requirement(text).name)
        except InvalidRequirement:
            continue
        if name in BUILDER_PACKAGES:
            yield Violation(
                "requirements-without-builder-packages",
                "requirements.txt",
                number,
                f"requirements.txt lists {name}: the Space builder installs gradio (the README's sdk_version) and "
                "spaces itself, and a second pin breaks the build.",
                f"remove {name} from requirements.txt (keep it in pyproject.toml; export with "
                "`uv export --no-emit-package spaces --no-emit-package gradio`).",
            )


def check(root: Path | str = ".", rules: list[str] | None = None) -> list[Violation]:
    """Every violation of the named rules (all of them by default) in the Space at root."""
    space = Space(root)
    violations = []
    for name in rules or list(RULES):
        violations.extend(RULES[name](space))
    return violations


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    root = Path(arguments[0]) if arguments else Path(".")
    violations = check(root)
    for violation in violations:
        print(violation)
    print(f"zerogpu.rules: {len(RULES)} rules, {len(violations)} violation(s) in {root.resolve()}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
