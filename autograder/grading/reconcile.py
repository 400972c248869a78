"""Reconcile: a test cell earns its points only if nbgrader passed it AND verification did.

| kernel | outside                                 | score             | flag                               |
| pass   | pass                                    | full              |                                    |
| pass   | wrong (the function ran, wrongly)       | 0                 | tampering suspected                |
| pass   | not defined when the solutions run alone| 0                 | not verified (with the real error) |
| pass   | the run failed (timeout, crash, ...)    | 0                 | that run flag                      |
| any    | could not verify (an error of ours)     | nbgrader's        | could not verify (with the cause)  |
| fail   | pass                                    | nbgrader's 0      | kernel and verification disagree   |
| fail   | fail                                    | 0                 | (verification's diagnosis in the feedback) |

Points are taken in the worker's gradebook (manual_score = 0, the reason as the cell's
comment). Manually graded cells (markdown answers) stay for a human.
"""
from ..specs import CHECKS
from . import flags
from . import gradebook


def verified_ids(assignment, stem):
    return {gid for gid, check in CHECKS.items() if check.assignment == assignment and check.notebook == stem}


BREAKDOWNS = (flags.TIMEOUT, flags.KERNEL_DIED, flags.EXIT, flags.CRASH)


def run_broke_down(ctx, stem):
    """Whether the kernel's run of this notebook stopped early (which explains failing cells)."""
    return any(flag.startswith(BREAKDOWNS) and stem in flag for flag in ctx.flags)


class Reconcile:
    def __call__(self, ctx):
        config, course, student = ctx.config, ctx.course, ctx.job.student_id
        verdicts, problems, run_flags = ({}, {}, {}) if ctx.pending is None else ctx.pending.results(
            config.student_timeout)
        for stem, problem in sorted(problems.items()):
            ctx.flag(flags.COULD_NOT_VERIFY, f"{stem}: {problem[:200]}")
        for stem, words in sorted(run_flags.items()):
            for word in words:
                ctx.flag(word, stem)
        ctx.verdicts = verdicts
        graded = gradebook.cells(course.db, student, config.assignment)
        if not graded:  # nbgrader never got as far as the gradebook: fall back on the assignment's cells
            graded = {key: {"notebook": key[0], "grade_id": key[1], "auto_score": 0.0 if kind == "code" else None,
                            "manual_score": None, "max_score": max_score, "cell_type": kind, "id": None}
                      for key, (max_score, kind) in gradebook.assignment_cells(course.db, config.assignment).items()}
        for (stem, gid), row in sorted(graded.items()):
            ctx.cells[f"{stem}:{gid}"] = self.judge(ctx, stem, gid, row)

    def judge(self, ctx, stem, gid, row):
        cell = {"score": row["auto_score"] or 0.0, "max_score": row["max_score"], "nbgrader": row["auto_score"],
                "verified": None, "message": "", "error": ctx.errors.get(stem, {}).get(gid)}
        if row["cell_type"] != "code":
            cell["score"] = row["manual_score"]
            return cell
        passed = row["auto_score"] is not None and row["auto_score"] >= row["max_score"] > 0
        if ctx.config.verifier is None or gid not in verified_ids(ctx.config.assignment, stem):
            return cell
        verdict = ctx.verdicts.get(stem, {}).get(gid)
        if verdict is None:     # our side failed (flagged "could not verify" above): nbgrader's score stands
            cell["message"] = "could not verify"
            return cell
        cell["verified"], cell["message"] = verdict["passed"], verdict["message"]
        kind = verdict.get("kind") or ("passed" if verdict["passed"] else "wrong")
        if passed and not verdict["passed"]:
            self.take_points(ctx, stem, gid, row, cell)
            if kind == "wrong":
                ctx.flag(flags.TAMPERING, f"{stem}:{gid}")
            elif kind == "undefined":
                ctx.flag(flags.NOT_VERIFIED, f"{gid}: not defined outside the notebook")
            # any other kind is a run flag (timeout, crash, memory limit...), raised in __call__
        elif not passed and verdict["passed"] and not run_broke_down(ctx, stem):
            # Right outside, wrong in the kernel: never a silent zero; a TA looks (docs/grading.md).
            ctx.flag(flags.DISAGREE, f"{stem}:{gid}")
        elif not passed and not verdict["passed"]:
            # The visible tests stop at the first failure; the verification's diagnosis names the slip.
            ctx.notes.setdefault(stem, {})[gid] = ("diagnosis", cell["message"])
        return cell

    @staticmethod
    def take_points(ctx, stem, gid, row, cell):
        cell["score"] = 0.0
        ctx.notes.setdefault(stem, {})[gid] = ("error", f"{cell['message']} (outside verification: no points)")
        if row["id"]:
            gradebook.zero(ctx.course.db, row["id"], f"Outside verification failed: {cell['message']}")
