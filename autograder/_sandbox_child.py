"""The untrusted half of outside verification: runs inside the sandbox, as a script.

    python -I -S _sandbox_child.py BOX SITE_PACKAGES TREE_FD ARRAYS_FD

It must import nothing from `autograder` (which is not reachable in the sandbox),
only the standard library and NumPy. It reads BOX/job.json and BOX/cases.npz,
executes the student's solution cells in a fresh namespace (each cell on its own,
so one broken cell does not hide the rest), calls each graded function on a deep
copy of each case and writes its results (JSON, then .npz) into the two descriptors the grader
opened and passed to it: plain data
only, no pickle. Everything this process writes is untrusted: the parent decodes
it with `decode`/`load_arrays` below, which check every node, and judges it with
its own NumPy and the reference solutions.

The data format (both directions): a JSON tree of nodes {"t": kind, ...} where
kind is none, bool, int, float, str, tuple, list, dict (items: [[key, node], ...],
keys are strings), array (ref: a name in the .npz), fn (name: one of ELEMENTARY's, for
an argument that is a function) or other (type: a type name, for any value that is not
plain data: the judge then reports that type).

A check may also name a script (`run_script`): the methods to call on an instance of a
graded class, for exercises that are classes rather than functions.
"""
import ast
import builtins
import copy
import importlib
import io
import json
import os
import stat
import sys
import warnings
import zipfile
from pathlib import Path

if __name__ == "__main__":   # the sandbox's script: numpy comes from the site-packages named in argv[2]
    sys.path.append(sys.argv[2])
    sys.path.append(str(Path(sys.argv[1]) / "lib"))   # student-facing helpers (coursekit), copied in

import numpy as np  # noqa: E402

MAX_DEPTH = 8              # nesting of tuples/lists/dicts
MAX_NODES = 10_000         # nodes in one encoded value
MAX_ELEMENTS = 4_000_000   # array elements in one encoded value (32 MB of float64)
MAX_TEXT = 2_000           # characters kept of a string or an exception message
ARRAY_KINDS = "biufc"      # bool, int, unsigned, float, complex: never object or structured


# ---------------------------------------------------------------- named functions

def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))   # no overflow warning at any magnitude


ELEMENTARY = {   # the functions a case may pass as an argument, by name
    "identity": np.positive,
    "square": np.square,
    "cube": lambda x: np.power(x, 3),
    "sigmoid": _sigmoid,
    "leaky_relu": lambda x: np.maximum(0.2 * x, x),
    "relu": lambda x: np.maximum(x, 0.0),
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "exp": np.exp,
}


class Fn:
    """A named elementary function, for arguments that are functions (Chapter 1's derivatives and
    chains): it crosses the wire as its name, so cases stay plain data. Immutable; copies are itself."""
    __slots__ = ("_name",)

    def __init__(self, name):
        if name not in ELEMENTARY:
            raise ValueError(f"no elementary function {name!r}")
        object.__setattr__(self, "_name", name)

    name = property(lambda self: self._name)
    __name__ = property(lambda self: self._name)

    def __call__(self, x):
        return ELEMENTARY[self._name](x)

    def __setattr__(self, key, value):
        raise AttributeError("Fn is immutable")

    def __eq__(self, other):
        return type(other) is Fn and other._name == self._name

    def __hash__(self):
        return hash(("Fn", self._name))

    def __repr__(self):
        return self._name

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


# ---------------------------------------------------------------- encoding (child and parent)

class Budget:
    """Counts nodes and array elements so that no value can be made arbitrarily large."""

    def __init__(self):
        self.nodes = self.elements = 0

    def take(self, elements=0):
        self.nodes += 1
        self.elements += elements
        return self.nodes <= MAX_NODES and self.elements <= MAX_ELEMENTS


def other(value, why=""):
    return {"t": "other", "type": (type(value).__name__ + why)[:100]}


def encode(value, arrays, budget=None, depth=0):
    """A JSON-able node for `value`; its arrays go into `arrays` as base-class ndarrays."""
    budget = budget or Budget()
    if depth > MAX_DEPTH or not budget.take(value.size if isinstance(value, np.ndarray) else 0):
        return other(value, " (too large to send back)")
    if value is None:
        return {"t": "none"}
    if type(value) is Fn:
        return {"t": "fn", "name": value.name}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)):
        number = int(np.asarray(value).item()) if isinstance(value, np.integer) else int.__int__(value)
        return {"t": "int", "v": number} if abs(number) < 2 ** 63 else other(value)
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": float(np.asarray(value, dtype=np.float64).item())}
    if isinstance(value, str):
        return {"t": "str", "v": str.__str__(value)[:MAX_TEXT]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            return other(value, f" of dtype {value.dtype}")
        plain = np.array(value, subok=False, copy=True)   # base class, own memory, no subclass hooks
        name = f"a{len(arrays)}"
        arrays[name] = plain.astype(plain.dtype.newbyteorder("="), copy=False)
        return {"t": "array", "ref": name}
    if isinstance(value, (tuple, list)):
        items = (tuple if isinstance(value, tuple) else list).__iter__(value)
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "items": [encode(item, arrays, budget, depth + 1) for item in items]}
    if isinstance(value, dict):
        pairs = list(dict.items(value))
        if not all(type(key) is str for key, _ in pairs):
            return other(value, " with keys that are not strings")
        return {"t": "dict", "items": [[key[:MAX_TEXT], encode(item, arrays, budget, depth + 1)]
                                       for key, item in pairs]}
    return other(value)


class Opaque:
    """Stands for a value that could not be sent back; its class carries the original type name."""

    def __repr__(self):
        return f"<{type(self).__name__}>"


def opaque(type_name):
    return type(str(type_name)[:100], (Opaque,), {})()


def decode(node, arrays, budget=None, depth=0):
    """The value a node stands for; raises ValueError on anything malformed."""
    budget = budget or Budget()
    if not isinstance(node, dict) or depth > MAX_DEPTH or not budget.take():
        raise ValueError("malformed or oversized value")
    kind = node.get("t")
    plain = {"none": type(None), "bool": bool, "int": int, "float": float, "str": str}
    if kind in plain:
        value = node.get("v")
        if kind != "none" and (type(value) is not plain[kind] and not (kind == "float" and type(value) is int)):
            raise ValueError(f"bad {kind} node")
        return float(value) if kind == "float" else (value[:MAX_TEXT] if kind == "str" else value)
    if kind == "array":
        ref = node.get("ref")
        if type(ref) is not str or ref not in arrays or not budget.take(arrays[ref].size):
            raise ValueError("bad array reference")
        return arrays[ref].copy()
    if kind in ("tuple", "list") and isinstance(node.get("items"), list):
        items = [decode(item, arrays, budget, depth + 1) for item in node["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict" and isinstance(node.get("items"), list):
        pairs = node["items"]
        if not all(isinstance(p, list) and len(p) == 2 and type(p[0]) is str for p in pairs):
            raise ValueError("bad dict node")
        return {key[:MAX_TEXT]: decode(item, arrays, budget, depth + 1) for key, item in pairs}
    if kind == "fn" and type(node.get("name")) is str and node["name"] in ELEMENTARY:
        return Fn(node["name"])
    if kind == "other" and type(node.get("type")) is str:
        return opaque(node["type"])
    raise ValueError(f"unknown node kind {kind!r}")


def read_regular(path, max_bytes):
    """The bytes of a regular file of at most max_bytes: never through a symlink, never blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            raise ValueError(f"{Path(path).name} is not a regular file of at most {max_bytes} bytes")
        data = file.read(info.st_size + 1)   # no more than was there, lest it grows meanwhile
    if len(data) > max_bytes:
        raise ValueError(f"{Path(path).name} is larger than {max_bytes} bytes")
    return data


def read_open(file, max_bytes):
    """At most max_bytes from the start of a file the reader opened itself (raises ValueError past that)."""
    file.seek(0)
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"more than {max_bytes} bytes")
    return data


def load_arrays(source, max_bytes):
    """The arrays of an .npz written by the other side (a path, or its bytes), refusing pickles,
    compression and odd dtypes."""
    data = io.BytesIO(source if isinstance(source, bytes) else read_regular(source, max_bytes))
    with zipfile.ZipFile(data) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"the arrays hold an unexpected member {info.filename!r}")
    with np.load(data, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    for name, array in arrays.items():
        if type(array) is not np.ndarray or array.dtype.kind not in ARRAY_KINDS or array.dtype.fields:
            raise ValueError(f"array {name!r} has dtype {array.dtype}")
    return arrays


def save(tree_fd, arrays_fd, tree, arrays):
    """Write the arrays, then the tree, into the descriptors the grader gave: a tree means both are complete."""
    with os.fdopen(arrays_fd, "wb") as file:
        np.savez(file, **arrays)
    with os.fdopen(tree_fd, "w") as file:
        file.write(json.dumps(tree))


# ---------------------------------------------------------------- scripts: exercising a graded class

KIT_MODULE = "coursekit.framework"   # the student-facing kit's module of given classes (Chapter 3's framework)
KIT_CLASSES = frozenset({            # the given, non-graded classes a script may make: the probes that stand in
    "ProbeScale", "ProbeSquare",     # for operations, layers, a loss and a network, so that one graded class
    "ProbeLayer", "ProbeLoss",       # is judged on its own, never through the student's other exercises
    "ProbeNetwork",
})
KIT_MIXINS = frozenset({"ProbeSetup"})   # given mixins a script may put in front of the graded class


def _name(value, allowed=None):
    """A method or attribute name from a script: a plain identifier, never a dunder (or one of `allowed`)."""
    if type(value) is not str or not value.isidentifier() or value.startswith("__") or (
            allowed is not None and value not in allowed):
        raise ValueError(f"script names {value!r}, which it may not")
    return value


def _resolve(ref, args, made):
    """A script's reference to a value: i (the case's argument i), "@k" (the k-th kit object the script
    made) or a list of references (a list of those values)."""
    if type(ref) is int:
        return args[ref]
    if type(ref) is str and ref.startswith("@") and ref[1:].isdigit():
        return made[int(ref[1:])]
    if isinstance(ref, (list, tuple)):
        return [_resolve(item, args, made) for item in ref]
    raise ValueError(f"bad script reference {ref!r}")


def run_script(target, script, args, kit=None):
    """Exercise a graded class the same way in the kernel, in the sandbox and in the grader.

    script: steps, each a list (JSON) or tuple whose first item says what it does:

    | step | does | keeps |
    |---|---|---|
    | ["new", refs] | instance = target(*refs) | |
    | ["new_with", mixin, refs] | instance = a subclass of target with the kit's `mixin` first, made from refs | |
    | ["kit", class, refs] | makes a given kit object (one of KIT_CLASSES) from refs; "@k" refers to the k-th | |
    | ["set", attribute, ref] | setattr(instance, attribute, value) | |
    | ["call", method, refs] | calls instance.method(*refs) | what it returned |
    | ["do", method, refs] | calls instance.method(*refs) | nothing |
    | ["get", attribute] | | instance.attribute |
    | ["items", attribute] | | tuple(instance.attribute), calling it first if it is a method |
    | ["report", ref] | | the kit object's report(): plain data, what it was given |

    refs is a list of references: i (the case's argument i), "@k" (the k-th kit object) or a list of
    references. The result is what the steps kept, in order: a tuple, or the one value when there is one.
    Every step is data: names are plain identifiers (no dunders), kit classes come from a closed list,
    and kit objects from `kit`, or else from the student-facing kit (KIT_MODULE, imported by name: in the
    sandbox it is the copy in lib/, in a kernel the one beside the notebook, the same module the
    student's classes were built on).
    """
    instance, kept, made = None, [], []

    def from_kit(name, allowed):
        nonlocal kit
        if kit is None:
            kit = importlib.import_module(KIT_MODULE)
        return getattr(kit, _name(name, allowed))

    for step in script:
        kind, rest = step[0], list(step[1:])
        if kind == "new":
            instance = target(*_resolve(rest[0], args, made))
        elif kind == "new_with":
            mixin = from_kit(rest[0], KIT_MIXINS)
            combined = type(getattr(target, "__name__", "Graded"), (mixin, target), {})
            instance = combined(*_resolve(rest[1], args, made))
        elif kind == "kit":
            made.append(from_kit(rest[0], KIT_CLASSES)(*_resolve(rest[1], args, made)))
        elif kind == "set":
            setattr(instance, _name(rest[0]), _resolve(rest[1], args, made))
        elif kind in ("call", "do"):
            result = getattr(instance, _name(rest[0]))(*_resolve(rest[1], args, made))
            if kind == "call":
                kept.append(result)
        elif kind == "get":
            kept.append(getattr(instance, _name(rest[0])))
        elif kind == "items":
            value = getattr(instance, _name(rest[0]))
            kept.append(tuple(value() if callable(value) else value))
        elif kind == "report":
            if not (type(rest[0]) is str and rest[0].startswith("@")):
                raise ValueError(f"a report is of a kit object, not {rest[0]!r}")
            kept.append(_resolve(rest[0], args, made).report())
        else:
            raise ValueError(f"unknown script step {kind!r}")
    return kept[0] if len(kept) == 1 else tuple(kept)


def scripted(target, script, kit=None):
    """`target` itself without a script, else a function of the case's arguments that runs the script."""
    if not script:
        return target
    return lambda *args: run_script(target, script, args, kit)


# ---------------------------------------------------------------- running the student's code (child only)

def describe(exc):
    try:
        message = str(exc)
    except Exception:  # an exception whose __str__ fails still gets reported
        message = "<unprintable message>"
    return [type(exc).__name__[:100], message[:MAX_TEXT]]


def run_cell(source, namespace, index):
    """Each top-level statement on its own, so that a failing line (an exploratory call on a
    variable of the notebook, which is not here) does not stop the definitions after it.
    Returns the cell's first error. SystemExit and KeyboardInterrupt end the process: the
    parent flags that."""
    name = f"<cell {index}>"
    try:
        statements = ast.parse(source, name).body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return describe(exc)
    first = None
    for statement in statements:
        try:
            exec(compile(ast.Module([statement], type_ignores=[]), name, "exec"), namespace)
        except Exception as exc:
            first = first or describe(exc)
    return first


def same(before, after, array_equal=np.array_equal):
    """Whether a call left its (copied) arguments as they were: hidden.same_inputs's rule, so both agree.

    array_equal is bound when this module loads, before any student code can replace it.
    """
    if isinstance(before, dict):
        return isinstance(after, dict) and all(key in after and same(before[key], after[key]) for key in before)
    if isinstance(before, (tuple, list)):
        return isinstance(after, (tuple, list)) and len(before) == len(after) and all(
            same(b, a) for b, a in zip(before, after))
    if type(before) is Fn:
        return before == after
    return bool(array_equal(before, after))


def call_cases(function, cases, arrays):
    outcomes = []
    for args in cases:
        given = copy.deepcopy(args)
        result, error = None, None
        with warnings.catch_warnings(record=True) as caught:   # as compare.call does in the kernel
            warnings.simplefilter("always")
            try:
                result = function(*given)
            except Exception as exc:
                error = describe(exc)
        if error is None and caught:
            result, error = None, [caught[0].category.__name__[:100],
                                   f"{caught[0].message} (a warning: the result may not be trustworthy)"[:MAX_TEXT]]
        try:
            node = encode(result, arrays) if error is None else None
        except Exception as exc:   # a result whose conversion fails is reported as its type
            node = other(result, f" (could not be sent back: {describe(exc)[0]})")
        outcomes.append({"result": node, "error": error, "modified": not same(args, given)})
    return outcomes


def run_check(namespace, call, arrays_in, arrays_out):
    function = namespace.get(call["function"])
    if function is None:
        return {"defined": False}
    if not callable(function):
        return {"defined": True, "callable": False, "type": type(function).__name__[:100]}
    cases = [decode(case, arrays_in) for case in call["cases"]]
    return {"defined": True, "callable": True,
            "cases": call_cases(scripted(function, call.get("script")), cases, arrays_out)}


class Unimportable:
    """A meta-path finder refusing the grader's own package, should an installation put it on the path."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "autograder":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def main(box, tree_fd, arrays_fd):
    box = Path(box)
    sys.meta_path.insert(0, Unimportable())
    job = json.loads((box / "job.json").read_text())
    arrays_in = load_arrays(box / "cases.npz", 1 << 30)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    cell_errors = [run_cell(source, namespace, i) for i, source in enumerate(job["cells"])]
    arrays_out = {}
    checks = {call["grade_id"]: run_check(namespace, call, arrays_in, arrays_out) for call in job["calls"]}
    memory = any(e and e[0] == "MemoryError" for e in cell_errors) or any(
        o["error"] and o["error"][0] == "MemoryError" for c in checks.values() for o in c.get("cases", []))
    sys.stdout.flush()
    save(tree_fd, arrays_fd, {"cells": cell_errors, "checks": checks, "memory_error": memory}, arrays_out)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[3]), int(sys.argv[4]))
