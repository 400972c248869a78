"""Outside verification, started before the kernel so both run at once.

The verifier (by default autograder.verify.verify_notebook) re-runs the student's solution
cells in a sandbox and judges the results in this process; it returns {grade_id: Verdict}
and may carry a `flags` attribute. Whatever it raises or omits counts as not verified.
"""
import hashlib
import importlib
import inspect
import threading

from . import flags


def load(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class Pending:
    """One thread per notebook; `results()` waits for them."""

    def __init__(self, verifier, staged: dict, seed: int, timeout: float | None):
        self.verdicts, self.problems, self.flags, self.threads = {}, {}, {}, []
        options = {"seed": seed}
        if timeout and "timeout_s" in inspect.signature(verifier).parameters:
            options["timeout_s"] = timeout
        for stem, path in staged.items():
            thread = threading.Thread(target=self._run, args=(verifier, stem, path, options), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _run(self, verifier, stem, path, options):
        try:
            found = verifier(path, stem, **options)
            self.verdicts[stem] = {gid: {"passed": bool(getattr(v, "passed", False)),
                                         "message": str(getattr(v, "message", ""))} for gid, v in found.items()}
            self.flags[stem] = [str(f) for f in (getattr(found, "flags", None) or [])]
        except Exception as exc:  # the verifier must never stop the pipeline
            self.problems[stem] = f"{type(exc).__name__}: {exc}"

    def results(self, timeout):
        for thread in self.threads:
            thread.join(timeout)
        return self.verdicts, self.problems, self.flags


def student_seed(seed: int, student: str) -> int:
    """A fresh seed per student (not the hidden tests' seeds), the same on every rerun."""
    return int(hashlib.sha256(f"{seed}:{student}".encode()).hexdigest()[:8], 16)


class StartVerification:
    def __call__(self, ctx):
        if ctx.config.verifier is None:
            return
        try:
            verifier = load(ctx.config.verifier)
        except Exception as exc:
            ctx.flag(flags.VERIFY_ERROR, f"cannot load {ctx.config.verifier}: {exc}")
            return
        timeout = ctx.course.nbconfig.Execute.get("timeout") if "Execute" in ctx.course.nbconfig else None
        ctx.pending = Pending(verifier, dict(ctx.staged), student_seed(ctx.config.seed, ctx.job.student_id), timeout)
