"""grades.csv (one row per student) and the summary printed at the end of a run."""
import csv
import io
import os
from pathlib import Path

import nbformat


def graded_cells(source: Path) -> list[str]:
    """`<notebook>:<grade_id>` of every graded cell, in notebook and cell order."""
    columns = []
    for path in sorted(source.glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                columns.append(f"{path.stem}:{meta['grade_id']}")
    return columns


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r",   # OWASP's list for CSV injection
                  "\uff1d", "\uff0b", "\uff0d", "\uff20")   # and their full-width forms


def safe_cell(value):
    """A CSV cell a spreadsheet shows rather than runs: text starting like a formula gets a
    leading `'` (OWASP). Use it for every text cell (ids, flags, messages) of every CSV;
    not for numbers, which pass unchanged (so do non-str values)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def printable(text: str) -> str:
    """Text for the terminal: every non-printable character (controls, escapes, bidi overrides) is `?`."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


def number(value):
    if value is None:
        return ""
    return f"{value:g}"


def write_csv(path: Path, results: list, columns: list):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(name) for name in ["student_id", "score", "max_score", *columns, "flags"]])
    for result in results:
        cells = result["cells"]
        writer.writerow([safe_cell(result["student_id"]), number(result["score"]), number(result["max_score"]),
                         *(number(cells.get(c, {}).get("score")) for c in columns),
                         safe_cell("; ".join(result["flags"]))])
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(scratch, path)


def grades_table(results: list) -> list[str]:
    """One line per student: score, and the autograded cells that lost points."""
    width = max([len("student")] + [len(printable(r["student_id"])) for r in results])
    lines = [f"{'student':<{width}}  {'score':>9}  cells that lost points"]
    for r in results:
        lost = [key.split(":")[1] for key, cell in r["cells"].items()
                if cell.get("score") is not None and cell["score"] < cell["max_score"]]
        lines.append(f"{printable(r['student_id']):<{width}}  {number(r['score']):>4} / {number(r['max_score']):<2}  "
                     f"{printable(', '.join(lost)) or '-'}")
    return lines


def summary(results: list, graded_now: int, seconds: float) -> str:
    lines = grades_table(results) + [""] if results else []
    lines += [f"{len(results)} students ({graded_now} graded now, {len(results) - graded_now} unchanged) "
              f"in {seconds:.1f} s"]
    if results:
        mean = sum(r["score"] for r in results) / len(results)
        lines.append(f"mean score {mean:.2f} / {results[0]['max_score']:g}")
        manual = sum(c["max_score"] for c in results[0]["cells"].values() if c.get("score") is None)
        if manual:
            lines.append(f"(the maximum includes {manual:g} points of written answers, left for a human grader)")
    flagged = [r for r in results if r["flags"]]
    if flagged:
        width = max(len(printable(r["student_id"])) for r in flagged)
        lines.append(f"{len(flagged)} flagged:")
        lines += [f"  {printable(r['student_id']):<{width}}  {printable('; '.join(r['flags']))}" for r in flagged]
    else:
        lines.append("no flags")
    return "\n".join(lines)
