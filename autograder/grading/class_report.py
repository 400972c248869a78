"""The class report: what to re-teach on Monday, from a grading run's results.

`build_report(OUT)` reads `OUT/results/*.json` (one per student, publish.py; `OUT/grades.csv`
gives the cells' notebook order) and writes `OUT/report/`:

| file | what |
| --- | --- |
| `index.html` | one self-contained page: no script, no network, the figures as inline PNG |
| `exercises.csv` | per exercise: passed, failed, not attempted, flagged, pass rate, diagnoses |
| `diagnoses.csv` | per exercise and diagnosis: how many students, who, the message they saw |
| `flags.csv` | one row per flag of a student |
| `students.csv` | per student: score, outcome counts, diagnoses, flags, grading seconds |

Each autograded cell of each student is exactly one of:

* **passed** - full points;
* **flagged** - not passed, and a flag names the cell or its notebook (tampering suspected,
  kernel and verification disagree, timeout, missing notebook...): a TA looks before
  anyone calls it a mistake;
* **not attempted** - the stub was left: the function raised NotImplementedError
  (the outside verification's message, or nbgrader's test cell when no verdict exists);
* **failed** - anything else. Its diagnosis is read from the verification's message: every
  part of a gradient's diagnosis ends with its slip's name in brackets (diagnose.py), and a
  name counts only if the course's catalogue (autograder/assignments/*/mistakes.py) has it. Anything else
  is *unexplained* and is grouped by its message with the numbers replaced by `#`, so the
  same undiagnosed mistake made by many students shows as one line: a slip the catalogue lacks.

Everything a student can influence (ids, messages, flags) is escaped in the page
(`html.escape`) and made inert in the CSV files (report.safe_cell). The page holds student
ids only, never student code. `python -m autograder report OUT` rebuilds it (main below).
"""
import argparse
import base64
import csv
import html
import io
import json
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import flags as flagwords
from .report import FORMULA_STARTS, safe_cell

PASSED, FAILED, NOT_ATTEMPTED, FLAGGED = "passed", "failed", "not attempted", "flagged"
STATUSES = (PASSED, FAILED, NOT_ATTEMPTED, FLAGGED)
UNEXPLAINED = "unexplained"
UNRECOGNISED, SHAPE = "unrecognised", "shape"       # diagnose.py's names for "no slip" and "right values, wrong shape"
NO_MESSAGE = "(no message: the outside verification gave no verdict)"

# Flags that name a notebook (or a cell) whose failing cells then need a look, not a diagnosis.
RUN_WIDE = {flagwords.UNCONFINED}                  # a property of the run, never of a student's answer
WHOLE_SUBMISSION = {flagwords.TIMEOUT, flagwords.CRASH, flagwords.KERNEL_DIED, flagwords.EXIT,
                    flagwords.GRADER_CHANGED}      # without a notebook named: the worker was stopped

STUB = re.compile(r"^\w+ raised NotImplementedError\b")
NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?<=\dx)\d+")   # W1 stays, 8x8 -> #x#
PART = re.compile(r"gradients? '[^']*'(?:, '[^']*')*: (?P<text>.+?) \[(?P<name>[^\[\]]+)\](?: |$)")
NAMED = re.compile(r"(?P<text>.+) \[(?P<name>[^\[\]]+)\]$", re.S)     # any other check's diagnosis, one slip
STUDENT_TEXT = re.compile(r"^\w+ (?:raised|should be a function, got|returned a result that could not be judged)")
FLAG = re.compile(r"^(?P<word>.*?) \((?P<detail>.*)\)$", re.S)
MESSAGE_CHARS = 400          # a message longer than this is cut in the page (the CSV keeps 2000)

# Okabe & Ito's colour-blind-safe palette; every colour also has its own hatching, for print.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
HATCHES = ["", "//", "\\\\", "xx", "..", "--", "++", "oo"]
STATUS_STYLE = {PASSED: ("#009E73", ""), FAILED: ("#D55E00", "//"), NOT_ATTEMPTED: ("#BBBBBB", ".."),
                FLAGGED: ("#E69F00", "xx")}
UNEXPLAINED_STYLE = ("#FFFFFF", "..")


def known_slips() -> set:
    """The slip names the course's catalogues can produce: every (name, message) in an assignment's mistakes.py."""
    from ..assignments import slip_names
    return slip_names() | {SHAPE, UNRECOGNISED}


def normalise(message: str) -> str:
    """A message with its numbers replaced by `#` and its spaces collapsed: one line per kind of mistake."""
    return " ".join(NUMBER.sub("#", message).split())


def diagnosis_parts(message: str, slips: set) -> list | None:
    """[(slip name, what the student was told)] when the message is a diagnosis; else None.

    A gradient's diagnosis is wholly made of `gradient 'K': ... [name]` parts (diagnose.py); any other
    check's is one text ending with ` [name]`. A name counts only if the catalogue has it, and never in
    a message that quotes what the student's code said (an exception's text, a type's name)."""
    named = NAMED.match(message)
    if named and not message.startswith("gradient") and not STUDENT_TEXT.match(message):
        return [(named.group("name"), named.group("text"))] if named.group("name") in slips else None
    parts, position = [], 0
    while position < len(message):
        found = PART.match(message, position)
        if not found or found.group("name") not in slips:
            return None
        parts.append((found.group("name"), found.group("text")))
        position = found.end()
    return parts or None


def exercise_function(grade_id: str) -> str:
    from ..specs import CHECKS
    check = CHECKS.get(grade_id)
    return check.function if check else ""


def split_flag(text: str) -> tuple:
    found = FLAG.match(text)
    return (found.group("word"), found.group("detail")) if found else (text, "")


# ---------------------------------------------------------------- one student's one exercise

@dataclass
class Outcome:
    status: str
    slips: list = field(default_factory=list)     # [(diagnosis, message shown, grouping key)] of a failure
    message: str = ""


def flag_concerns(flag: str, key: str, stems: set) -> bool:
    """Whether a student's flag explains why the cell `key` (`notebook:grade_id`) did not pass."""
    word, detail = split_flag(flag)
    stem, grade_id = key.split(":", 1)
    if word in RUN_WIDE:
        return False
    if re.search(rf"(?<![\w:]){re.escape(key)}(?![\w:])", detail) or detail.startswith(f"{grade_id}:"):
        return True
    if re.match(rf"{re.escape(stem)}(?:$|[\s;,]|: )", detail):     # the notebook as a whole, not another cell
        return True
    return word in WHOLE_SUBMISSION and not any(s in detail for s in stems)


def classify(result: dict, key: str, slips: set, stems: set, stub_error=None) -> Outcome:
    """The outcome of one autograded cell. Without a verdict of the outside verification, the stub is
    recognised by nbgrader's error: the cell's `error` (its test cell's exception name) where the result
    has it, else `stub_error(student, key)`, which reads it from nbgrader's autograded notebook."""
    cell = result.get("cells", {}).get(key) or {}
    score, max_score = cell.get("score"), cell.get("max_score") or 0
    message = str(cell.get("message") or "")
    if score is not None and max_score > 0 and score >= max_score:
        return Outcome(PASSED, message=message)
    if any(flag_concerns(str(flag), key, stems) for flag in result.get("flags", [])):
        return Outcome(FLAGGED, message=message)
    no_verdict = cell.get("verified") is None or not message
    if STUB.match(message) or (no_verdict and (cell.get("error") == "NotImplementedError" or (
            stub_error is not None and stub_error(result["student_id"], key)))):
        return Outcome(NOT_ATTEMPTED, message=message)
    parts = diagnosis_parts(message, slips)
    if parts:
        return Outcome(FAILED, [(UNEXPLAINED, text, normalise(text)) if name == UNRECOGNISED else (name, text, name)
                                for name, text in parts], message)
    shown = message or NO_MESSAGE
    return Outcome(FAILED, [(UNEXPLAINED, shown, normalise(shown))], message)


def autograded_stub_error(out: Path, assignment: str):
    """stub_error for classify: nbgrader's autograded notebook, its test cell's error name (cached per notebook)."""
    cache = {}

    def errors(student, stem):
        if (student, stem) not in cache:
            path = out / "nbgrader" / "autograded" / student / assignment / f"{stem}.ipynb"
            found = {}
            try:
                notebook = json.loads(path.read_text(encoding="utf-8"))
                for cell in notebook.get("cells", []):
                    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                    names = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                    if isinstance(grade_id, str) and names:
                        found[grade_id] = names[0]
            except (OSError, ValueError, AttributeError, TypeError):
                pass
            cache[student, stem] = found
        return cache[student, stem]

    def stub_error(student, key):
        stem, grade_id = key.split(":", 1)
        return bool(assignment) and errors(student, stem).get(grade_id) == "NotImplementedError"
    return stub_error


# ---------------------------------------------------------------- the whole class

@dataclass
class Exercise:
    key: str
    max_score: float
    counts: Counter = field(default_factory=Counter)        # status -> students
    students: dict = field(default_factory=lambda: defaultdict(list))   # status -> ids
    diagnoses: Counter = field(default_factory=Counter)     # diagnosis -> students
    who: dict = field(default_factory=lambda: defaultdict(list))        # diagnosis -> ids
    shown: dict = field(default_factory=lambda: defaultdict(Counter))   # diagnosis -> Counter(message)
    unexplained: dict = field(default_factory=lambda: defaultdict(list))  # normalised message -> ids
    points: list = field(default_factory=list)

    @property
    def notebook(self):
        return self.key.split(":", 1)[0]

    @property
    def grade_id(self):
        return self.key.split(":", 1)[1]

    @property
    def function(self):
        return exercise_function(self.grade_id)

    @property
    def label(self):
        return f"{self.grade_id} ({self.function})" if self.function else self.grade_id

    @property
    def total(self):
        return sum(self.counts.values())

    def rate(self, status=PASSED):
        return self.counts[status] / self.total if self.total else 0.0

    def distribution(self) -> str:
        """`14 missing factor 2, 6 bias not summed, 3 unexplained` (unexplained last)."""
        named = sorted(((n, d) for d, n in self.diagnoses.items() if d != UNEXPLAINED), key=lambda p: (-p[0], p[1]))
        if self.diagnoses[UNEXPLAINED]:
            named.append((self.diagnoses[UNEXPLAINED], UNEXPLAINED))
        return ", ".join(f"{n} {d}" for n, d in named)


@dataclass
class ClassReport:
    assignment: str
    out: Path
    results: list
    exercises: list
    outcomes: dict            # student -> {key: Outcome}
    written: list             # keys of the written answers (left for a human)
    problems: list            # result files that could not be read
    run_wide: Counter         # flags every result carries because of how the run was made
    generated: str = ""

    @property
    def students(self):
        return [str(r["student_id"]) for r in self.results]

    def autograded_max(self) -> float:
        return max((sum(self.cell_max(r, e.key) for e in self.exercises) for r in self.results), default=0.0)

    @staticmethod
    def cell_max(result, key):
        return (result.get("cells", {}).get(key) or {}).get("max_score") or 0.0

    def score(self, result) -> float:
        """Autograded points (the written answers are left for a human)."""
        return sum((result.get("cells", {}).get(e.key) or {}).get("score") or 0.0 for e in self.exercises)

    def student_flags(self, result) -> list:
        return [str(f) for f in result.get("flags", []) if split_flag(str(f))[0] not in self.run_wide]

    def diagnoses(self) -> list:
        """[(exercise, diagnosis, ids, message shown)], most students first; unexplained ones apart."""
        rows = [(e, d, e.who[d], e.shown[d].most_common(1)[0][0]) for e in self.exercises for d in e.who
                if d != UNEXPLAINED]
        return sorted(rows, key=lambda r: (-len(r[2]), self.exercises.index(r[0]), r[1]))

    def unexplained(self) -> list:
        """[(exercise, normalised message, ids)], most students first: the catalogue's gaps."""
        rows = [(e, m, ids) for e in self.exercises for m, ids in e.unexplained.items()]
        return sorted(rows, key=lambda r: (-len(r[2]), self.exercises.index(r[0]), r[1]))

    def seconds(self, result):
        timings = result.get("timings")
        if not isinstance(timings, dict) or not timings:
            return None
        return sum(v for v in timings.values() if isinstance(v, (int, float)))


def read_results(out: Path) -> tuple:
    """(results, problems): every readable OUT/results/*.json, and the names of those that were not."""
    results, problems = [], []
    for path in sorted((out / "results").glob("*.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = None
        if isinstance(result, dict) and isinstance(result.get("cells"), dict) and "student_id" in result:
            results.append(result)
        else:
            problems.append(path.name)
    return results, problems


def grades_order(out: Path) -> tuple:
    """(cell columns, student ids) in grades.csv's order, or ([], []) without it."""
    try:
        with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError:
        return [], []
    if not rows or rows[0][:3] != ["student_id", "score", "max_score"]:
        return [], []
    def unquote(text):     # undo safe_cell
        return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
    return [unquote(c) for c in rows[0][3:-1]], [unquote(r[0]) for r in rows[1:] if r]


def assignment_name(out: Path, results: list) -> str:
    named = {r.get("assignment") for r in results if isinstance(r.get("assignment"), str)}
    if len(named) == 1:
        return named.pop()
    sources = [p.name for p in (out / "nbgrader" / "source").glob("*") if p.is_dir()]
    return sources[0] if len(sources) == 1 else ""


def summarise(results: list, out: Path = Path("."), columns=(), assignment="", problems=(), stub_error=None):
    """Every count the page and the CSV files show, from the results (pure but for stub_error)."""
    slips = known_slips()
    keys = list(dict.fromkeys([*columns, *sorted(k for r in results for k in r.get("cells", {}))]))
    keys = [k for k in keys if ":" in k]
    written = [k for k in keys if all((r.get("cells", {}).get(k) or {}).get("score") is None for r in results)]
    exercises = [Exercise(k, max((ClassReport.cell_max(r, k) for r in results), default=0.0))
                 for k in keys if k not in written]
    stems = {e.notebook for e in exercises} | {k.split(":", 1)[0] for k in written}
    everyone = Counter(split_flag(str(f))[0] for r in results for f in set(r.get("flags", [])))
    run_wide = Counter({w: n for w, n in everyone.items() if w in RUN_WIDE})
    outcomes = {}
    for result in results:
        student = str(result["student_id"])
        mine = outcomes[student] = {}
        for exercise in exercises:
            if exercise.key not in result.get("cells", {}):
                continue
            outcome = mine[exercise.key] = classify(result, exercise.key, slips, stems, stub_error)
            exercise.counts[outcome.status] += 1
            exercise.students[outcome.status].append(student)
            exercise.points.append((result["cells"][exercise.key] or {}).get("score") or 0.0)
            for name in dict.fromkeys(d for d, _, _ in outcome.slips):   # a student counts once per diagnosis
                exercise.diagnoses[name] += 1
                exercise.who[name].append(student)
            for name, text, group in outcome.slips:
                if name == UNEXPLAINED:
                    if student not in exercise.unexplained[group]:
                        exercise.unexplained[group].append(student)
                else:
                    exercise.shown[name][text] += 1
    return ClassReport(assignment, out, results, exercises, outcomes, written, list(problems), run_wide,
                       time.strftime("%Y-%m-%d %H:%M"))


# ---------------------------------------------------------------- numbers

def number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 and value != int(value) else f"{value:g}"
    return str(value)


def students(count: int) -> str:
    return f"{count} student{'s' * (count != 1)}"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"


def score_summary(scores: list) -> dict:
    if not scores:
        return {}
    ordered = sorted(scores)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return {"students": len(ordered), "mean": statistics.fmean(ordered), "median": statistics.median(ordered),
            "sd": statistics.pstdev(ordered), "min": ordered[0], "q1": quartiles[0], "q3": quartiles[2],
            "max": ordered[-1]}


def timing_summary(report: ClassReport) -> dict:
    times = [(report.seconds(r), str(r["student_id"])) for r in report.results]
    known = sorted((t for t in times if t[0] is not None), reverse=True)
    steps = defaultdict(list)
    for result in report.results:
        for step, seconds in (result.get("timings") or {}).items():
            if isinstance(seconds, (int, float)):
                steps[str(step)].append(seconds)
    return {"median": statistics.median([t for t, _ in known]) if known else None,
            "total": sum(t for t, _ in known), "slowest": known[:5],
            "missing": [s for t, s in times if t is None],
            "steps": sorted(((s, statistics.median(v), max(v)) for s, v in steps.items()), key=lambda r: -r[1])}


# ---------------------------------------------------------------- CSV files

def cut(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def write_rows(path: Path, header: list, rows: list):
    """A CSV file whose every text cell is inert in a spreadsheet (report.safe_cell), written atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in [header, *rows]:
        writer.writerow([safe_cell(v) if isinstance(v, str) else number(v) for v in row])
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(scratch, path)


def write_csvs(report: ClassReport, folder: Path):
    write_rows(folder / "exercises.csv",
               ["notebook", "grade_id", "function", "max_score", "students", *[s.replace(" ", "_") for s in STATUSES],
                "pass_rate", "mean_score", "diagnoses"],
               [[e.notebook, e.grade_id, e.function, e.max_score, e.total, *[e.counts[s] for s in STATUSES],
                 round(e.rate(), 4), round(statistics.fmean(e.points), 4) if e.points else None, e.distribution()]
                for e in report.exercises])
    rows = [[e.notebook, e.grade_id, e.function, d, len(ids), "; ".join(ids), cut(shown, 2000)]
            for e, d, ids, shown in report.diagnoses()]
    rows += [[e.notebook, e.grade_id, e.function, UNEXPLAINED, len(ids), "; ".join(ids), cut(message, 2000)]
             for e, message, ids in report.unexplained()]
    write_rows(folder / "diagnoses.csv",
               ["notebook", "grade_id", "function", "diagnosis", "students", "student_ids", "message"], rows)
    write_rows(folder / "flags.csv", ["student_id", "flag", "detail", "text"],
               [[str(r["student_id"]), *split_flag(str(f)), str(f)] for r in report.results for f in r.get("flags", [])])
    rows = []
    for result in report.results:
        mine = report.outcomes[str(result["student_id"])]
        counts = Counter(o.status for o in mine.values())
        slips = [f"{key.split(':', 1)[1]}: {name}" for key, o in mine.items() for name in dict.fromkeys(
            d for d, _, _ in o.slips)]
        rows.append([str(result["student_id"]), report.score(result), report.autograded_max(),
                     *[counts[s] for s in STATUSES], "; ".join(slips),
                     "; ".join(map(str, result.get("flags", []))), report.seconds(result)])
    write_rows(folder / "students.csv", ["student_id", "score", "autograded_max",
                                         *[s.replace(" ", "_") for s in STATUSES], "diagnoses", "flags", "seconds"],
               rows)


# ---------------------------------------------------------------- figures

def png(figure) -> str:
    """The figure as a data: URI (Agg, no metadata that names a web site)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def new_figure(width, height):
    from matplotlib.figure import Figure
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def style_axes(axes):
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=9)


def label_segments(axes, bars, counts, total_width):
    for bar, count in zip(bars, counts):
        if count and bar.get_width() >= 0.045 * total_width:
            axes.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, str(count),
                      ha="center", va="center", fontsize=8, color="black",
                      bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def outcome_figure(report: ClassReport) -> str:
    """Horizontal 100% bars, one per exercise: passed / failed / not attempted / flagged."""
    exercises = report.exercises
    figure, axes = new_figure(8.5, 0.42 * len(exercises) + 1.4)
    labels = [e.label for e in exercises][::-1]
    left = [0.0] * len(exercises)
    for status in STATUSES:
        shares = [e.rate(status) * 100 for e in exercises][::-1]
        colour, hatch = STATUS_STYLE[status]
        bars = axes.barh(labels, shares, left=left, color=colour, hatch=hatch, edgecolor="black", linewidth=0.6,
                         label=status)
        label_segments(axes, bars, [e.counts[status] for e in exercises][::-1], 100)
        left = [a + b for a, b in zip(left, shares)]
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of students (the number in each segment is students)", fontsize=9)
    axes.set_title("Outcome by exercise", fontsize=11, loc="left")
    figure.legend(ncols=4, loc="outside lower left", frameon=False, fontsize=9)
    style_axes(axes)
    return png(figure)


def diagnosis_styles(report: ClassReport) -> dict:
    names = [d for _, d, _, _ in report.diagnoses()]
    ordered = list(dict.fromkeys(names))
    styles = {name: (OKABE_ITO[i % len(OKABE_ITO)], HATCHES[(i + i // len(OKABE_ITO)) % len(HATCHES)])
              for i, name in enumerate(ordered)}
    styles[UNEXPLAINED] = UNEXPLAINED_STYLE
    return styles


def diagnosis_figure(report: ClassReport) -> str:
    """Stacked horizontal bars: for each exercise with failures, how many students made each diagnosis."""
    failing = [e for e in report.exercises if e.diagnoses]
    if not failing:
        return ""
    styles = diagnosis_styles(report)
    names = [n for n in styles if any(e.diagnoses[n] for e in failing)]
    figure, axes = new_figure(8.5, 0.45 * len(failing) + 1.6 + 0.22 * ((len(names) + 2) // 3))
    labels = [e.label for e in failing][::-1]
    widest = max(sum(e.diagnoses.values()) for e in failing)
    left = [0] * len(failing)
    for name in names:
        counts = [e.diagnoses[name] for e in failing][::-1]
        colour, hatch = styles[name]
        bars = axes.barh(labels, counts, left=left, color=colour, hatch=hatch, edgecolor="black", linewidth=0.6,
                         label=name)
        label_segments(axes, bars, counts, widest)
        left = [a + b for a, b in zip(left, counts)]
    axes.set_xlabel("students (a student with two slips in one exercise counts in both)", fontsize=9)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Diagnoses of the failed exercises", fontsize=11, loc="left")
    figure.legend(ncols=3, loc="outside lower left", frameon=False, fontsize=9)
    style_axes(axes)
    return png(figure)


def score_figure(report: ClassReport, scores: list, summary: dict) -> str:
    if not scores:
        return ""
    top = report.autograded_max() or max(scores) or 1
    figure, axes = new_figure(8.5, 3.2)
    step = 1 if top <= 40 else top / 20
    edges, edge = [], 0.0
    while edge < top + step:
        edges.append(edge)
        edge += step
    axes.hist(scores, bins=[e - step / 2 for e in edges] + [edges[-1] + step / 2], color="#56B4E9",
              edgecolor="black", linewidth=0.7, hatch="//")
    axes.axvline(summary["mean"], color="black", linestyle="--", linewidth=1.5, zorder=3,
                 label=f"mean {summary['mean']:.1f}")
    axes.axvline(summary["median"], color="#D55E00", linestyle=":", linewidth=2.2, zorder=3,
                 label=f"median {summary['median']:g}")
    axes.set_xlim(-step, top + step)
    axes.set_xlabel(f"autograded points (out of {top:g})", fontsize=9)
    axes.set_ylabel("students", fontsize=9)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Score distribution", fontsize=11, loc="left")
    axes.legend(frameon=False, fontsize=9)
    style_axes(axes)
    return png(figure)


# ---------------------------------------------------------------- the page

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #111;
       max-width: 1100px; margin: 0 auto; padding: 1.2em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 2px solid #333; }
.lead { color: #333; margin-top: 0; }
table { border-collapse: collapse; margin: .6em 0 1em; width: 100%; font-size: .92em; }
th, td { border: 1px solid #999; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #eee; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.notebook th { background: #ddd; font-size: 1.02em; }
.ids { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; overflow-wrap: break-word; }
td:has(> .ids) { min-width: 14em; }
table.compact { width: auto; min-width: min(24em, 100%); }
.scroll { overflow-x: auto; }
.msg { overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0; }
.card { border: 1px solid #999; border-radius: 6px; padding: .5em .9em; min-width: 9em; }
.card b { display: block; font-size: 1.5em; }
.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: .4em .8em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: .9em; color: #333; }
.tag { display: inline-block; border: 1px solid #555; border-radius: 3px; padding: 0 .3em; font-size: .85em; }
.tag.passed { background: #cdeee3; } .tag.failed { background: #f6d0b8; }
.tag.not-attempted { background: #e6e6e6; } .tag.flagged { background: #fbe3b0; }
@media print { body { max-width: none; font-size: 11pt; } h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
"""


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def ids(students: list) -> str:
    return f'<span class="ids">{esc(", ".join(map(str, students)))}</span>' if students else "–"


def tag(status: str) -> str:
    return f'<span class="tag {status.replace(" ", "-")}">{esc(status)}</span>'


def table(header: list, rows: list, numeric=(), compact=False) -> str:
    """header: plain texts (escaped here); rows: cells already HTML; `numeric`: right-aligned columns."""
    head = "".join(f'<th{" class=n" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return (f"<div class=scroll><table{' class=compact' * compact}><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def figure_html(uri: str, alt: str, caption: str) -> str:
    return f'<figure><img src="{uri}" alt="{esc(alt)}"><figcaption>{esc(caption)}</figcaption></figure>' if uri else ""


def exercises_section(report: ClassReport) -> str:
    header = ["exercise", "points", "passed", "failed", "not attempted", "flagged", "pass rate", "diagnoses of the failures"]
    body, notebook = [], None
    for exercise in report.exercises:
        if exercise.notebook != notebook:
            notebook = exercise.notebook
            mine = [x for x in report.exercises if x.notebook == notebook]
            everything = sum(1 for s in report.students
                             if all(report.outcomes[s].get(x.key, Outcome(FAILED)).status == PASSED for x in mine))
            points = sum(x.max_score for x in mine)
            mean = sum(statistics.fmean(x.points) for x in mine if x.points)
            body.append(f'<tr class="notebook"><th colspan="8">{esc(notebook)} — mean {mean:.1f} of {points:g} points; '
                        f'{everything} of {len(report.students)} students passed every exercise</th></tr>')
        counts = [exercise.counts[s] for s in STATUSES]
        cells = [esc(exercise.label), number(exercise.max_score), *map(str, counts), percent(exercise.rate()),
                 esc(exercise.distribution()) or "–"]
        body.append("<tr>" + "".join(f'<td{" class=n" if 1 <= i <= 6 else ""}>{c}</td>' for i, c in enumerate(cells))
                    + "</tr>")
    head = "".join(f'<th{" class=n" if 1 <= i <= 6 else ""}>{esc(h)}</th>' for i, h in enumerate(header))
    return f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def diagnoses_section(report: ClassReport) -> str:
    rows = [[esc(x.label), esc(d), str(len(who)), f'<span class="msg">{esc(cut(shown, MESSAGE_CHARS))}</span>', ids(who)]
            for x, d, who, shown in report.diagnoses()]
    if not rows:
        return "<p>No failure was matched to a slip of the catalogue.</p>"
    return table(["exercise", "diagnosis", "students", "the message students saw", "who (to write to)"], rows, (2,))


def unexplained_section(report: ClassReport) -> str:
    rows = [[esc(x.label), str(len(who)), f'<span class="msg">{esc(cut(message, MESSAGE_CHARS))}</span>', ids(who)]
            for x, message, who in report.unexplained()]
    if not rows:
        return "<p>Every failure was diagnosed.</p>"
    return ("<p>Failures no slip of the catalogue explains, grouped by their message with the numbers replaced by "
            "<code>#</code>, most students first. One that many students share is a mistake the catalogue "
            "lacks (the assignment's <code>mistakes.py</code>).</p>"
            + table(["exercise", "students", "message (numbers as #)", "who"], rows, (1,)))


def flags_section(report: ClassReport) -> str:
    parts = []
    for word, count in report.run_wide.items():
        parts.append(f'<p class="note">{count} of {len(report.results)} results carry the flag '
                     f'<b>{esc(word)}</b>: a property of how the run was made (not of a student\'s work), '
                     f"so it is left out below.</p>")
    flagged = [(r, report.student_flags(r)) for r in report.results]
    flagged = [(r, f) for r, f in flagged if f]
    if not flagged:
        return "".join(parts) + "<p>No student was flagged.</p>"
    words = Counter(split_flag(f)[0] for _, fs in flagged for f in dict.fromkeys(fs))
    summary = ", ".join(f"{n} {esc(w)}" for w, n in words.most_common())
    rows = [[ids([r["student_id"]]), "<br>".join(f'<span class="msg">{esc(cut(f, MESSAGE_CHARS))}</span>' for f in fs)]
            for r, fs in flagged]
    return "".join(parts) + (f"<p>{students(len(flagged))} flagged ({summary}). A flagged exercise is counted as "
                             "<em>flagged</em>, not failed, until a TA has looked (docs/grading.md says what each "
                             "flag means).</p>" + table(["student", "flags"], rows, compact=True))


def timing_section(report: ClassReport) -> str:
    timing = timing_summary(report)
    if timing["median"] is None:
        return "<p>No result holds step timings.</p>"
    slowest = ", ".join(f"{esc(s)} ({t:.1f} s)" for t, s in timing["slowest"])
    text = (f"<p>Median {timing['median']:.1f} s per student (the sum of the pipeline's steps in a worker; "
            f"{timing['total'] / 60:.1f} worker-minutes in all). Slowest: {slowest}.</p>")
    if timing["missing"]:
        text += (f"<p>No timings for {students(len(timing['missing']))}, whose worker was stopped "
                 f"(timeout or crash): {ids(timing['missing'])}.</p>")
    rows = [[esc(step), f"{median:.2f}", f"{most:.2f}"] for step, median, most in timing["steps"]]
    return text + table(["step", "median s", "slowest s"], rows, (1, 2), compact=True)


def scores_section(report: ClassReport, scores: list, summary: dict) -> str:
    if not summary:
        return "<p>No scores.</p>"
    top = report.autograded_max()
    full = sum(1 for s in scores if s >= top)
    zero = sum(1 for s in scores if s == 0)
    names = [("students", "students"), ("mean", "mean"), ("median", "median"), ("sd", "standard deviation"),
             ("min", "lowest"), ("q1", "first quartile"), ("q3", "third quartile"), ("max", "highest")]
    rows = [[esc(label), number(round(summary[k], 2) if isinstance(summary[k], float) else summary[k])]
            for k, label in names]
    rows += [["full marks", str(full)], ["zero", str(zero)]]
    manual = sum(ClassReport.cell_max(report.results[0], k) for k in report.written) if report.results else 0
    note = (f"<p>Out of {top:g} autograded points; {len(report.written)} written answers ({manual:g} points) "
            f"wait for a human grader and are not counted here.</p>" if report.written else
            f"<p>Out of {top:g} autograded points.</p>")
    return note + table(["", "points"], rows, (1,), compact=True)


def render_html(report: ClassReport) -> str:
    scores = [report.score(r) for r in report.results]
    summary = score_summary(scores)
    total = len(report.results)
    cells = sum(x.total for x in report.exercises)
    passed = sum(x.counts[PASSED] for x in report.exercises)
    top = report.diagnoses()[:3]
    cards = [("students", str(total)), ("mean score", f"{summary.get('mean', 0):.1f} / {report.autograded_max():g}"),
             ("exercises passed", percent(passed / cells) if cells else "–"),
             ("students flagged", str(sum(1 for r in report.results if report.student_flags(r))))]
    card_html = "".join(f'<div class="card">{esc(label)}<b>{esc(value)}</b></div>' for label, value in cards)
    monday = ("<ol>" + "".join(f"<li><b>{esc(x.label)}</b>: {students(len(who))} — {esc(d)}</li>" for x, d, who, _ in top)
              + "</ol>") if top else "<p>No diagnosed mistake.</p>"
    hardest = min(report.exercises, key=lambda x: (x.rate(), report.exercises.index(x)), default=None)
    if hardest is not None and hardest.rate() < 1:
        monday += (f"<p>Lowest pass rate: <b>{esc(hardest.label)}</b>, {percent(hardest.rate())} "
                   f"({esc(hardest.distribution()) or 'no diagnosis'}).</p>")
    gaps = report.unexplained()[:1]
    if gaps and len(gaps[0][2]) > 1:
        x, message, who = gaps[0]
        monday += (f"<p>Most common unexplained failure: <b>{esc(x.label)}</b>, {students(len(who))}: "
                   f'<span class="msg">{esc(cut(message, 200))}</span></p>')
    problems = (f'<p class="note">Result files that could not be read, left out: {ids(report.problems)}</p>'
                if report.problems else "")
    outcome_png = outcome_figure(report) if report.exercises else ""
    diagnosis_png = diagnosis_figure(report)
    score_png = score_figure(report, scores, summary)
    title = f"Class report — {report.assignment}" if report.assignment else "Class report"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<p class="lead">{total} students, from <code>{esc(report.out.name)}/results</code>, {esc(report.generated)}.
Student ids only: no student code is in this report. The tables are also in
<a href="exercises.csv">exercises.csv</a>, <a href="diagnoses.csv">diagnoses.csv</a>,
<a href="flags.csv">flags.csv</a> and <a href="students.csv">students.csv</a>.</p>
{problems}
<div class="cards">{card_html}</div>
<h2 id="monday">What to re-teach</h2>
<p>The diagnoses that most students share:</p>
{monday}
<h2 id="exercises">Exercises</h2>
<p>{tag(PASSED)} full points. {tag(FAILED)} lost points: its diagnosis below.
{tag(NOT_ATTEMPTED)} the stub was left (NotImplementedError). {tag(FLAGGED)} a flag names the exercise or its
notebook: a TA looks before it counts as a mistake.</p>
{exercises_section(report)}
{figure_html(outcome_png, "Stacked horizontal bars, one per exercise: the share of students who passed, failed, "
             "did not attempt it, or were flagged, with the number of students in each segment.",
             "Figure 1. Outcome by exercise (colours and hatching both tell the outcomes apart).")}
<h2 id="diagnoses">Diagnoses, most students first</h2>
{diagnoses_section(report)}
{figure_html(diagnosis_png, "Stacked horizontal bars, one per exercise with failures: the number of students "
             "with each diagnosis.", "Figure 2. Diagnoses by exercise; the white dotted segment is unexplained.")}
<h2 id="unexplained">Unexplained failures, most common first</h2>
{unexplained_section(report)}
<h2 id="scores">Scores</h2>
{scores_section(report, scores, summary)}
{figure_html(score_png, "Histogram of the students' autograded scores, with the mean and median marked.",
             "Figure 3. Score distribution (dashed: mean; dotted: median).")}
<h2 id="flags">Flagged students</h2>
{flags_section(report)}
<h2 id="timing">Grading time</h2>
{timing_section(report)}
</body></html>
"""


# ---------------------------------------------------------------- entry points

def build_report(out: Path, results: list | None = None) -> Path:
    """Write OUT/report/index.html and its CSV files from OUT/results/*.json (or the `results` given,
    in their order, e.g. cli.run's); return the page's path."""
    out = Path(out)
    problems = []
    if results is None:
        results, problems = read_results(out)
    columns, order = grades_order(out)
    rank = {student: i for i, student in enumerate(order)}
    results = sorted(results, key=lambda r: (rank.get(str(r["student_id"]), len(rank)), str(r["student_id"])))
    assignment = assignment_name(out, results)
    report = summarise(results, out, columns, assignment, problems, autograded_stub_error(out, assignment))
    folder = out / "report"
    folder.mkdir(parents=True, exist_ok=True)
    write_csvs(report, folder)
    page = folder / "index.html"
    scratch = folder / f".index.html.{os.getpid()}.tmp"
    scratch.write_text(render_html(report), encoding="utf-8")
    os.replace(scratch, page)
    return page


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder report",
                                     description="Rebuild OUT/report/ (index.html and its CSV files) from a grading "
                                                 "run's results, without grading again.")
    parser.add_argument("out", type=Path, help="the --out folder of `python -m autograder grade`")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not any((args.out / "results").glob("*.json")):
        print(f"no results in {args.out / 'results'}: grade first (python -m autograder grade ASSIGNMENT "
              f"--submissions DIR --out {args.out})", file=sys.stderr)
        return 2
    page = build_report(args.out)
    print(f"wrote {page} and its CSV files in {page.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
