"""Outside verification, started before the kernel so both run at once.

The verifier (by default autograder.verify.verify_notebook) re-runs the student's solution
cells in a sandbox and judges the results in this process; it returns {grade_id: Verdict}
and may carry a `flags` attribute. Whatever it raises or omits counts as not verified.
"""
import importlib
import threading

from . import flags


def load(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class Pending:
    """One thread per notebook; `results()` waits for them."""

    def __init__(self, verifier, staged: dict, seed: int):
        self.verdicts, self.problems, self.threads = {}, {}, []
        for stem, path in staged.items():
            thread = threading.Thread(target=self._run, args=(verifier, stem, path, seed), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _run(self, verifier, stem, path, seed):
        try:
            found = verifier(path, stem, seed=seed)
            self.verdicts[stem] = {gid: {"passed": bool(getattr(v, "passed", False)),
                                         "message": str(getattr(v, "message", ""))} for gid, v in found.items()}
            self.verdicts[stem]["__flags__"] = [str(f) for f in (getattr(found, "flags", None) or [])]
        except Exception as exc:  # the verifier must never stop the pipeline
            self.problems[stem] = f"{type(exc).__name__}: {exc}"

    def results(self, timeout):
        for thread in self.threads:
            thread.join(timeout)
        return self.verdicts, self.problems


class StartVerification:
    def __call__(self, ctx):
        if ctx.config.verifier is None:
            return
        try:
            verifier = load(ctx.config.verifier)
        except Exception as exc:
            ctx.flag(flags.VERIFY_ERROR, f"cannot load {ctx.config.verifier}: {exc}")
            return
        ctx.pending = Pending(verifier, dict(ctx.staged), ctx.config.seed)
