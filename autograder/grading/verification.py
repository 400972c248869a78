"""Outside verification, started before the kernel so both run at once.

The verifier (by default autograder.verify.verify_notebook) re-runs the student's solution
cells in a sandbox and judges the results; it returns {grade_id: Verdict} and may carry a
`flags` attribute. It runs in a helper process of the worker, not a thread: CPython 3.11's
AST validation is not thread-safe, and nbgrader compiles code (templates, cells) in the
worker at the same time ("SystemError: AST constructor recursion depth mismatch").
Whatever the verifier raises or omits counts as not verified.
"""
import hashlib
import importlib
import inspect
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, wait

from . import flags

_pool = None


def load(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def run_verifier(spec, path, stem, options):
    """In the helper process: call the verifier and return plain data."""
    verifier = load(spec)
    accepted = inspect.signature(verifier).parameters
    options = {k: v for k, v in options.items() if k not in ("timeout_s", "assignment") or k in accepted}
    found = verifier(path, stem, **options)
    verdicts = {gid: {"passed": bool(getattr(v, "passed", False)), "message": str(getattr(v, "message", "")),
                      "kind": str(getattr(v, "kind", "") or "")} for gid, v in found.items()}
    return verdicts, [str(f) for f in (getattr(found, "flags", None) or [])]


def warm_up(spec):
    """In the helper process: import the verifier before the first student needs it."""
    load(spec)


def start_helper(spec):
    """Start the helper process now (at worker start), so its imports overlap other start-up work."""
    if spec:
        pool().submit(warm_up, spec)


def pool():
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


def drop_pool():
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool = None


class Pending:
    """One verification per notebook, queued on the helper process; `results()` waits for them."""

    def __init__(self, spec, staged: dict, seed: int, timeout: float | None, assignment: str | None = None):
        options = {"seed": seed, "assignment": assignment, **({"timeout_s": timeout} if timeout else {})}
        self.futures = {stem: pool().submit(run_verifier, spec, path, stem, dict(options))
                        for stem, path in sorted(staged.items())}

    def results(self, timeout):
        verdicts, problems, run_flags = {}, {}, {}
        wait(list(self.futures.values()), timeout=timeout)
        for stem, future in self.futures.items():
            if not future.done():
                problems[stem] = "did not finish"
                continue
            try:
                verdicts[stem], run_flags[stem] = future.result()
            except Exception as exc:  # the verifier must never stop the pipeline
                problems[stem] = f"{type(exc).__name__}: {exc}"
        if problems:
            drop_pool()          # a helper that broke or hangs is not reused
        return verdicts, problems, run_flags


def student_seed(seed: int, student: str) -> int:
    """A fresh seed per student (not the hidden tests' seeds), the same on every rerun."""
    return int(hashlib.sha256(f"{seed}:{student}".encode()).hexdigest()[:8], 16)


class StartVerification:
    def __call__(self, ctx):
        if ctx.config.verifier is None:
            return
        try:
            load(ctx.config.verifier)
        except Exception as exc:
            ctx.flag(flags.COULD_NOT_VERIFY, f"cannot load {ctx.config.verifier}: {exc}")
            return
        timeout = ctx.course.nbconfig.Execute.get("timeout") if "Execute" in ctx.course.nbconfig else None
        ctx.pending = Pending(ctx.config.verifier, dict(ctx.staged),
                              student_seed(ctx.config.seed, ctx.job.student_id), timeout, ctx.config.assignment)
