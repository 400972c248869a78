"""ScanForTampering: code that tries to change how it is graded is flagged, whether or not it worked.

Every code cell of each staged notebook is read as the student wrote it, before nbgrader
overwrites the locked cells, so an edited test cell counts too (the hidden-test region of a
test cell is the instructor's, and is left out). A cell is parsed with `ast` after its
IPython magics and shell lines (`%...`, `!...`) are turned into `pass`; those lines are only
searched for paths. A cell that still does not parse is searched with each rule's regex.
Names are resolved through the notebook's imports: `import numpy as xp; xp.allclose = f`
is `numpy.allclose`. Strings given to exec/eval/compile/run_cell are scanned as code.

RULES is the one list of what is looked for: (reason, matcher on an ast node, regex).
Each notebook gets one flag per reason found, with the first piece of evidence.
"""
import ast
import re
from typing import Callable, NamedTuple

import nbformat

from .feedback import strip_hidden

TAMPERING_ATTEMPTED = "tampering attempted"

PROTECTED = ("numpy", "builtins", "coursekit")   # no notebook replaces what these modules hold
KNOWN = {"np": "numpy", "__builtins__": "builtins"}   # what a name means before any import says
HOOKS = {"input_transformers_cleanup", "input_transformers_post", "ast_transformers", "set_custom_exc",
         "register_magic_function", "register_magics", "register_line_magic", "register_cell_magic",
         "register_line_cell_magic", "set_hook", "sys.settrace", "sys.setprofile", "sys.addaudithook",
         "sys.excepthook", "sys.displayhook", "threading.settrace", "events.register"}
IMPORT_STATE = {"sys.modules", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache"}
MUTATORS = {"pop", "popitem", "update", "clear", "setdefault", "__setitem__", "__delitem__",
            "insert", "append", "extend", "remove"}
PROCESS = re.compile(r"(os\.(chdir|fchdir|chroot|fork|forkpty|system|popen|kill|killpg|exec\w*|spawn\w*|"
                     r"posix_spawn\w*)|subprocess|pty)(\.|$)")
OUTSIDE = re.compile(r"^\s*(~[\w.-]*/|/[\w.~-]+(/|$))|(^|[/\\])\.\.([/\\]|$)")   # /etc, ~/x, ../x, a/../b
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}
SCANNED_STRINGS = {"exec", "eval", "compile", "run_cell"}


# ---------------------------------------------------------------- reading names

def dotted(node, names):
    """The dotted name an expression stands for, through the notebook's imports, or None:
    `np.testing.x` -> "numpy.testing.x", `get_ipython().events` -> "get_ipython().events",
    `sys.modules["numpy"]` and `__import__("numpy")` -> "numpy"."""
    if isinstance(node, ast.Name):
        return names.get(node.id, KNOWN.get(node.id, node.id))
    if isinstance(node, ast.Attribute):
        base = dotted(node.value, names)
        return base and f"{base}.{node.attr}"
    if isinstance(node, ast.Call):
        function = dotted(node.func, names)
        first = node.args[0] if node.args else None
        if function and function.rsplit(".", 1)[-1] in ("import_module", "__import__") and \
                isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return function and f"{function}()"
    if isinstance(node, ast.Subscript) and dotted(node.value, names) == "sys.modules" and \
            isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    return None


def protected_part(node, names):
    """The protected module, or part of one, that writing to node writes to, or None: `np.x`,
    `np.__dict__["x"]`, `vars(np)["x"]`, `sys.modules["numpy"].x`; not `np.zeros(3)[0]`."""
    while node is not None:
        name = dotted(node, names)
        if protected(name) and "()" not in name:
            return name
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call) and dotted(node.func, names) in ("vars", "builtins.vars") and node.args:
            node = node.args[0]
        else:
            return None
    return None


def protected(name):
    return bool(name) and any(name == module or name.startswith(module + ".") for module in PROTECTED)


def targets(node):
    """What an assignment, augmented assignment or del writes to, tuples unpacked."""
    if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        return []
    found = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
    while any(isinstance(t, (ast.Tuple, ast.List, ast.Starred)) for t in found):
        found = [e for t in found for e in (t.elts if isinstance(t, (ast.Tuple, ast.List))
                                            else [t.value] if isinstance(t, ast.Starred) else [t])]
    return found


def call_parts(node, names):
    """(the called name's last part, its dotted name, the first argument) of a call, else Nones."""
    if not isinstance(node, ast.Call):
        return None, None, None
    function = dotted(node.func, names) or (node.func.attr if isinstance(node.func, ast.Attribute) else "")
    return function.rsplit(".", 1)[-1], function, (node.args[0] if node.args else None)


def imported_modules(node):
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level and node.module:
        return [node.module]
    return []


# ---------------------------------------------------------------- the rules

def replaces_protected(node, names):
    for target in targets(node):
        if isinstance(target, ast.Name) and protected(names.get(target.id, KNOWN.get(target.id))):
            return target.id
        if not isinstance(target, ast.Name) and protected_part(target, names):
            return ast.unparse(target)[:80]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and protected(names.get(node.name)):
        return f"def {node.name}"
    last, function, first = call_parts(node, names)
    if last in ("setattr", "delattr", "object", "__setattr__", "__delattr__") and protected_part(first, names):
        return ast.unparse(node)[:80]
    if last == "patch" and isinstance(first, ast.Constant) and protected(str(first.value)):
        return ast.unparse(node)[:80]
    if last in MUTATORS | {"__setattr__", "__delattr__"} and isinstance(node.func, ast.Attribute):
        owner = node.func.value     # np.__dict__.update(...), vars(builtins).pop(...), np.__setattr__(...)
        if protected_part(owner, names) and (last.startswith("__") or isinstance(owner, ast.Call)
                                             or getattr(owner, "attr", "") == "__dict__"):
            return ast.unparse(node)[:80]
    return None


def installs_hook(node, names):
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = dotted(node, names) or ""
        if any(name == hook or name.endswith("." + hook) for hook in HOOKS):
            return name
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in HOOKS:
        return repr(node.value)                                     # getattr(ip, "ast_transformers")
    return None


def edits_import_state(node, names):
    for target in targets(node):
        written = target.value if isinstance(target, ast.Subscript) else target
        if dotted(written, names) in IMPORT_STATE:
            return ast.unparse(target)[:80]
    last, function, _ = call_parts(node, names)
    if last in MUTATORS and function.rsplit(".", 1)[0] in IMPORT_STATE:
        return function
    return None


def imports_grader(node, names):
    for module in imported_modules(node):
        if module == "autograder" or module.startswith("autograder."):
            return f"import {module}"
    last, _, first = call_parts(node, names)
    if (last in ("import_module", "__import__", "run_module", "find_spec") and isinstance(first, ast.Constant)
            and re.match(r"autograder(\.|$)", str(first.value))):
        return ast.unparse(node)[:80]
    return None


def outside_path(node, names):
    if not isinstance(node, ast.Constant) or not isinstance(node.value, (str, bytes)) or hasattr(node, "text_only"):
        return None
    text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
    return repr(text)[:80] if OUTSIDE.search(text) else None


def starts_processes(node, names):
    for module in imported_modules(node):
        if PROCESS.match(module + "."):
            return f"import {module}"
    if isinstance(node, (ast.Name, ast.Attribute)) and PROCESS.match(dotted(node, names) or ""):
        return dotted(node, names)
    return None


def uses_ctypes_or_ptrace(node, names):
    for module in imported_modules(node):
        if module.split(".")[0] in ("ctypes", "cffi", "ptrace"):
            return f"import {module}"
    name = dotted(node, names) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if name and (name.split(".")[0] == "ctypes" or "ptrace" in name.lower()):
        return name
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "ptrace" in node.value.lower():
        return repr(node.value)[:80]
    return None


def opens_socket(node, names):
    for module in imported_modules(node):
        if module.split(".")[0] == "socket":
            return f"import {module}"
    name = dotted(node, names) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return name if name and name.split(".")[0] == "socket" else None


class Rule(NamedTuple):
    reason: str
    matcher: Callable    # (ast node, {name: dotted meaning}) -> evidence or None
    pattern: str         # for code that does not parse (searched line by line: ^ is a line's start)


RULES = [
    Rule("replaces part of numpy, builtins or the course kit", replaces_protected,
         r"\b(np|numpy|builtins|__builtins__|coursekit)(\.\w+)+\s*[-+*/|&]?=(?!=)|__builtins__\s*\["
         r"|\b(setattr|delattr)\(\s*(np|numpy|builtins|__builtins__|coursekit)\b"),
    Rule("installs an IPython or interpreter hook", installs_hook,
         r"\b(input_transformers_cleanup|input_transformers_post|ast_transformers|set_custom_exc"
         r"|register_magic_function|register_magics|register_(line_|cell_|line_cell_)magic|set_hook"
         r"|settrace|setprofile|addaudithook|excepthook|displayhook)\b|\bevents\.register\b"),
    Rule("edits sys.modules or the import machinery", edits_import_state,
         r"\bsys\.(modules|meta_path|path_hooks|path_importer_cache)\s*(\[[^\]\n]*\]\s*=(?!=)|=(?!=)"
         r"|\.(pop|popitem|update|clear|setdefault|__setitem__|__delitem__|insert|append|extend|remove)\b)"),
    Rule("imports the grader's package", imports_grader,
         r"^\s*(from|import)\s+autograder\b|\b(import_module|__import__|run_module|find_spec)\(\s*['\"]autograder\b"),
    Rule("uses a path outside its folder", outside_path,
         r"""['"](~[\w.-]*/|/[\w.~-]+(/|['"])|([^'"\n]*[/\\])?\.\.(?=[/\\'"]))"""),
    Rule("changes directory or starts processes", starts_processes,
         r"\bos\.(chdir|fchdir|chroot|fork|forkpty|system|popen|kill|killpg|exec\w*|spawn\w*|posix_spawn\w*)\b"
         r"|\bsubprocess\b|^\s*(from|import)\s+pty\b"),
    Rule("uses ctypes or ptrace", uses_ctypes_or_ptrace, r"\b(ctypes|cffi)\b|(?i:ptrace)"),
    Rule("opens a network socket", opens_socket, r"\bsocket\b"),
]


# ---------------------------------------------------------------- reading a notebook

def split_magics(source):
    """(Python with each magic or shell line made `pass`, those lines' text); None for Python
    when a cell magic's body is not Python (%%bash, %%html, ...)."""
    lines = source.splitlines()
    if lines and lines[0].startswith("%%") and lines[0][2:].split(" ")[0] not in PYTHON_CELL_MAGICS:
        return None, lines
    python, magics = [], []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            magics.append(stripped)
            line = line[: len(line) - len(stripped)] + "pass"
        python.append(line)
    return "\n".join(python), magics


def without_comments(text):
    """Lines cut at a `#` outside quotes (near enough, for the regex fallback)."""
    kept = []
    for line in text.splitlines():
        for match in re.finditer("#", line):
            before = line[: match.start()]
            if before.count('"') % 2 == 0 and before.count("'") % 2 == 0:
                line = before
                break
        kept.append(line)
    return "\n".join(kept)


def parse(source, depth=0):
    """The cell's tree, with the strings given to exec and friends parsed in too; None if it won't parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in list(ast.walk(tree)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            node.value.text_only = True                        # a docstring or bare string: not used
        if isinstance(node, ast.JoinedStr):                     # f"{root}/data": only its start is a path
            for part in ast.walk(node):
                if isinstance(part, ast.Constant) and part is not node.values[0]:
                    part.text_only = True
        last, _, first = call_parts(node, {})
        if depth < 3 and last in SCANNED_STRINGS and isinstance(getattr(first, "value", None), str):
            inner = parse(first.value, depth + 1)
            tree.body.extend(inner.body if inner is not None else [])
    return tree


def imported_names(trees):
    """{name: the module or module attribute it was imported as}: `import numpy as np` -> np: numpy."""
    names = {}
    for node in (node for tree in trees for node in ast.walk(tree)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                names[alias.asname or root] = alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.update({alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names})
    return names


def code_cells(notebook):
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        nbgrader = cell.metadata.get("nbgrader", {})
        is_test = nbgrader.get("grade") and not nbgrader.get("solution")
        yield strip_hidden(cell.source) if is_test else cell.source


def findings(notebook):
    """{reason: first evidence} for one notebook, in RULES order."""
    trees, texts, magic_lines = [], [], []
    for source in code_cells(notebook):
        python, magics = split_magics(source)
        magic_lines += magics
        tree = parse(python) if python is not None else None
        if tree is None:
            texts.append(without_comments(python if python is not None else "\n".join(magics[1:])))
        else:
            trees.append(tree)
    names = imported_names(trees)
    nodes = [node for tree in trees for node in ast.walk(tree)]
    tokens = [token for line in magic_lines for token in re.split(r"[\s=<>|;&()'\"]+", line)]
    found = {}
    for rule in RULES:
        evidence = (next((e for node in nodes for e in [rule.matcher(node, names)] if e), None)
                    or next((m.group(0).strip()[:80] for text in texts
                             for m in [re.search(rule.pattern, text, re.M)] if m), None)
                    or (rule.matcher is outside_path and next((t for t in tokens if OUTSIDE.search(t)), None)))
        if evidence:
            found[rule.reason] = evidence
    return found


class ScanForTampering:
    def __call__(self, ctx):
        for stem, path in sorted(ctx.staged.items()):
            try:
                found = findings(nbformat.read(str(path), as_version=4))
            except Exception:  # noqa: BLE001 - a scan that fails must not stop the grading
                continue
            for reason, evidence in found.items():
                ctx.flag(TAMPERING_ATTEMPTED, f"{stem}: {reason}: {evidence}")
