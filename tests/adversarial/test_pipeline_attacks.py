"""End-to-end attacks on the grading pipeline: one class, graded through the CLI in bubblewrap mode,
with outside verification on: once with kernels forked from the kernel template, once with fresh ones.

Each file in pipeline/ is a student whose notebook holds a WRONG `mae` plus an attack. The file's first
line says what the attack tries and what stops it; then `# key: value` lines:
    # student: <id>             the student's folder name (default: the file's name)
    # where: solution           the attack's first cell goes into the mae solution cell, so the outside
                                verification runs it too (default: plain cells after the solution)
    # flags: a, b               flags the student must get
    # rmse: 3                   the rmse cell must keep its points (the notebook went on after the attack)
    # outcome: stopped          the student outlasts --student-timeout: its worker is killed, nothing of
                                its notebook is published, it gets 0 and the flag `timeout`
then cells separated by `# %%` lines. __NAME__ placeholders are filled in by the test (see `places`).

An attack prints `REPORT {label: outcome}` ("ok", "ok:box-tmpfs" where what it wrote landed in a tmpfs
made for the box, or the exception that stopped it) and ends with `ATTACK-DONE`; where it runs in
verification, its wrong mae raises with the report, so the report comes back in the verification's
message. An "ok" is an escape unless its label starts with `box:` (inside the box by design: its /tmp,
its folder), `info:` or `hostrw:` (the kernel's socket folder, checked on the host instead).

Beside them: `alice` and `bob`, correct, whom the attacks target by name (bob); `carol`, wrong and
nothing else (the baseline). Afterwards, and again 3 s later (late writers): every attacker has 0 for
mae in grades.csv, its result and the gradebook; alice and bob have 5/5 and no flags; the repository,
the venv and the interpreter are unchanged; nothing named after the run's token is in /tmp or $HOME; no
process of the run is alive; the test's listener was never reached. (The repository check compares
`git status` and the files of autograder/ before and after: in a checkout others edit at the same time,
their edits show up there, marked "no token".)

The suite first found five gaps, each now closed and tested here: a kernel wrote past --kernel-disk
into its socket folder (sealed once the kernel has its sockets) and its box's root (now read-only);
it read earlier kernels' output through the worker's log it inherited as stdout/stderr (now
/dev/null); the verification box wrote without a size limit (now tmpfs with --size, results through
descriptors); a worker killed past --student-timeout left its socket folder in /tmp (now inside the
run's scratch folder, which the run removes).
"""
import csv
import hashlib
import html
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.grading import cli, confine

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ASSIGNMENT, STEM = "ch02_fundamentals", "01_linear_regression"
MAE, RMSE = f"{STEM}:lin_mae", f"{STEM}:lin_rmse"
SITE = Path(np.__file__).resolve().parents[1]
VENV = Path(sys.prefix)
BASE = Path(sys.base_prefix).resolve()
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
HOME = Path(os.environ.get("HOME") or "/tmp")
DISK_LIMIT_MIB = confine.KernelLimits.disk_bytes >> 20
VICTIMS = ("alice", "bob")
CELL_TIMEOUT, STUDENT_TIMEOUT = "10", "45"


# ---------------------------------------------------------------- the notebooks

def meta(grade_id, solution=False, grade=False, points=0):
    data = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": grade, "schema_version": 3}
    return {"nbgrader": {**data, "points": points} if grade else data}


CORRECT_MAE = "def mae(preds, actuals):\n    return float(np.mean(np.abs(preds - actuals)))"
WRONG_MAE = "def mae(preds, actuals):\n    return -1.0   # wrong on purpose"
RMSE_SOURCE = "def rmse(preds, actuals):\n    return float(np.sqrt(np.mean((preds - actuals) ** 2)))"
TEST = ('assert callable({0})\n### BEGIN HIDDEN TESTS\nfrom autograder.hidden import run_hidden_test\n'
        'run_hidden_test("lin_{0}", {0})\n### END HIDDEN TESTS')


def notebook(mae=CORRECT_MAE, extra=()):
    cells = [new_code_cell("import numpy as np"),
             new_code_cell(mae, metadata=meta("mae_solution", solution=True)),
             *[new_code_cell(source) for source in extra],
             new_code_cell(TEST.format("mae"), metadata=meta("lin_mae", grade=True, points=2)),
             new_code_cell(RMSE_SOURCE, metadata=meta("rmse_solution", solution=True)),
             new_code_cell(TEST.format("rmse"), metadata=meta("lin_rmse", grade=True, points=3))]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


@dataclass(frozen=True)
class Attack:
    name: str
    student: str
    what: str
    where: str
    cells: tuple
    flags: tuple
    rmse: str | None
    outcome: str


def load(path):
    header, *cells = path.read_text().split("\n# %%\n")
    first, *rest = header.splitlines()
    fields = dict(line[2:].split(": ", 1) for line in rest if line.startswith("# ") and ": " in line)
    assert first.startswith("# ") and len(first) > 40, f"{path.name}: first line must say what it tries and what stops it"
    assert set(fields) <= {"student", "where", "flags", "rmse", "outcome"}, f"{path.name}: header {sorted(fields)}"
    flags = tuple(f.strip() for f in fields.get("flags", "").split(",") if f.strip())
    outcome = fields.get("outcome", "finished")
    return Attack(path.stem, fields.get("student", path.stem), first[2:], fields.get("where", "cell"), tuple(cells),
                  flags + (("timeout",) if outcome == "stopped" else ()), fields.get("rmse"), outcome)


ATTACKS = [load(path) for path in sorted((HERE / "pipeline").glob("*.py"))]
BY_NAME = {attack.name: attack for attack in ATTACKS}
ATTACKERS = [attack.student for attack in ATTACKS] + ["carol"]
FINISHED = [attack for attack in ATTACKS if attack.outcome == "finished"]
STOPPED = [attack.student for attack in ATTACKS if attack.outcome == "stopped"]


def fill(source, values):
    for name, value in values.items():
        source = source.replace(f"__{name}__", str(value))
    return source


def attack_notebook(attack, values):
    cells = [fill(cell, values) for cell in attack.cells]
    if attack.where == "solution":
        return notebook(WRONG_MAE + "\n\n\n" + cells[0], cells[1:])
    return notebook(WRONG_MAE, cells)


# ---------------------------------------------------------------- what must not change

def file_hashes(paths):
    """{path relative to the repository: sha256} of every file under `paths` (bytecode left out)."""
    hashes = {}
    for top in paths:
        for path in [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()):
            if "__pycache__" not in path.parts and path.suffix != ".pyc":
                hashes[str(path.relative_to(REPO))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def listing(folder):
    try:
        return sorted(os.listdir(folder))
    except OSError as exc:
        return repr(exc)


def git_status():
    return subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"],
                          cwd=REPO, capture_output=True, text=True, check=True).stdout


def config_files(run):
    """Where a backdoored nbgrader configuration would be read from (a05 writes to each)."""
    return [REPO / "nbgrader_config.py", run.course / "nbgrader_config.py", run.out / "nbgrader" / "nbgrader_config.py",
            HOME / ".jupyter" / "nbgrader_config.py", VENV / "etc" / "jupyter" / "nbgrader_config.py",
            Path("/etc/jupyter/nbgrader_config.py"), Path("/usr/local/etc/jupyter/nbgrader_config.py")]


def snapshot():
    return {"git status": git_status(),
            "autograder/ and nbgrader_config.py": file_hashes([REPO / "autograder", REPO / "nbgrader_config.py"]),
            "site-packages": listing(SITE),
            "site-packages .pth and editable files": {p.name: p.read_bytes() for p in sorted(SITE.iterdir())
                                                      if p.suffix == ".pth" or p.name.startswith("__editable__")},
            "numpy/__init__.py": hashlib.sha256((SITE / "numpy" / "__init__.py").read_bytes()).hexdigest(),
            "stdlib": listing(STDLIB), "stdlib site.py": (STDLIB / "site.py").read_bytes(),
            "base site-packages": listing(STDLIB / "site-packages"),
            "venv bin": listing(VENV / "bin"), "pyvenv.cfg": (VENV / "pyvenv.cfg").read_bytes()}


# ---------------------------------------------------------------- the run

class TreeWatcher(threading.Thread):
    """Every process the grader starts, seen while it runs: (pid, create_time) -> command line."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.seen, self.done = pid, {}, threading.Event()

    def run(self):
        try:
            root = psutil.Process(self.pid)
            while not self.done.is_set():
                for child in root.children(recursive=True):
                    try:
                        self.seen.setdefault((child.pid, child.create_time()), " ".join(child.cmdline())[:300])
                    except psutil.Error:
                        pass
                time.sleep(0.1)
        except psutil.Error:
            pass


@dataclass
class Run:
    base: Path
    course: Path
    submissions: Path
    out: Path
    token: str
    listener: socket.socket
    students: dict
    done: subprocess.CompletedProcess
    before: dict
    pids_before: set
    tree: dict
    seconds: float


@pytest.fixture(scope="module", params=["template", "fresh"])
def run(request, tmp_path_factory):
    """The class graded once per way of starting kernels: forked from the worker's kernel template (the
    default) and fresh (--fresh-kernels); every test below runs against both."""
    if not confine.available():
        pytest.skip("bubblewrap cannot confine a grading kernel here (confine.available() is False): "
                    "these attacks are only meaningful against the confined kernel")
    base = tmp_path_factory.mktemp("pipeline-attacks")
    course, submissions, out = base / "course", base / "submitted", base / "out"
    token = uuid.uuid4().hex
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(notebook(), str(course / "source" / ASSIGNMENT / f"{STEM}.ipynb"))
    places = {"OUT": out, "REPO": REPO, "SITE": SITE, "STDLIB": STDLIB, "BASE": BASE, "VENV": VENV,
              "COURSE": course, "SUBMISSIONS": submissions, "HOME": HOME, "TOKEN": token,
              "PORT": listener.getsockname()[1], "VICTIM": "bob"}
    students = {"alice": notebook(), "bob": notebook(), "carol": notebook(WRONG_MAE)}
    for attack in ATTACKS:
        students[attack.student] = attack_notebook(attack, {**places, "STUDENT": attack.student})
    for student, content in students.items():
        (submissions / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(content, str(submissions / student / ASSIGNMENT / f"{STEM}.ipynb"))
    before = snapshot()
    pids_before = {(p.pid, p.info["create_time"]) for p in psutil.process_iter(["create_time"])}
    env = {"HOME": str(HOME), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PIPELINE_ATTACK_RUN": token}
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(submissions),
               "--out", str(out), "--workers", "2", "--cell-timeout", CELL_TIMEOUT, "--student-timeout",
               STUDENT_TIMEOUT, "--quiet",
               "--course-root", str(course), "--no-kit"] + (["--fresh-kernels"] if request.param == "fresh" else [])
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = TreeWatcher(process.pid)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        family = psutil.Process(process.pid).children(recursive=True)
        process.kill()
        for child in family:
            try:
                child.kill()
            except psutil.Error:
                pass
        stdout, stderr = process.communicate()
    finally:
        watcher.done.set()
        watcher.join()
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    result = Run(base, course, submissions, out, token, listener, students, done, before, pids_before,
                 watcher.seen, time.monotonic() - started)
    try:
        if done.returncode != 0:     # one clear failure for every test rather than files missing everywhere
            pytest.fail(f"the grading run failed (exit status {done.returncode}): {stderr.strip()[-1500:]}\n"
                        + "\n".join(environment_problems(result)), pytrace=False)
        yield result
    finally:
        clean_up(result)


def clean_up(run):
    """Never leave a stray of this run behind, whatever the tests found."""
    run.listener.close()
    for line in leftover_processes(run):
        try:
            psutil.Process(int(line.split()[0])).kill()
        except (psutil.Error, ValueError):
            pass
    for folder in stopped_leftovers(run):     # should there be any: our run's garbage
        shutil.rmtree(folder, ignore_errors=True)
    for path in token_files(run):
        try:
            path.unlink()
        except OSError:
            pass


# ---------------------------------------------------------------- reading the run back

def rows(run):
    with open(run.out / "grades.csv", newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def csv_id(student):
    return "'" + student if student.startswith(("=", "+", "-", "@")) else student


def result(run, student):
    return json.loads((run.out / "results" / f"{student}.json").read_text())


def gradebook_scores(run):
    """{(student, grade_id): the score nbgrader counts (manual_score over auto_score)}."""
    query = """SELECT submitted_assignment.student_id, base_cell.name, grade.auto_score, grade.manual_score
               FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
               JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
               JOIN base_cell ON grade.cell_id = base_cell.id"""
    with closing(sqlite3.connect(f"file:{run.out / 'nbgrader' / 'gradebook.db'}?mode=ro", uri=True)) as db:
        return {(student, cell): manual if manual is not None else auto
                for student, cell, auto, manual in db.execute(query)}


def autograded(run, student):
    return nbformat.read(str(run.out / "nbgrader" / "autograded" / student / ASSIGNMENT / f"{STEM}.ipynb"), as_version=4)


def kernel_output(run, student):
    """Everything the student's kernel printed or raised, as text."""
    texts = []
    for cell in autograded(run, student).cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") if isinstance(output.get("text", ""), str) else "".join(output["text"]))
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
            texts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def kernel_report(run, student):
    report = {}
    for found in re.findall(r"^REPORT (\{.*\})$", kernel_output(run, student), re.M):
        report.update(json.loads(found))
    return report


def verification_report(run, student):
    found = re.search(r"REPORT (\{.*\})", result(run, student)["cells"][MAE]["message"])
    return json.loads(found.group(1)) if found else None


def escapes(report):
    return {label: outcome for label, outcome in report.items()
            if not label.startswith(("box:", "info:", "hostrw:")) and outcome == "ok"}


def published(run, student):
    """The text of everything published for a student that a TA or the student opens."""
    texts = {}
    for folder in (run.out / "feedback" / student, run.out / "nbgrader" / "feedback" / student,
                   run.out / "nbgrader" / "autograded" / student):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                texts[str(path)] = html.unescape(path.read_text(errors="replace"))
    return texts


# ---------------------------------------------------------------- the checks (run again after 3 s)

def score_problems(run):
    problems, graded, book = [], rows(run), gradebook_scores(run)
    for student in ATTACKERS:
        row, stored = graded.get(csv_id(student)), result(run, student)
        if row is None or row[MAE] != "0":
            problems.append(f"{student}: grades.csv {row}")
        if stored["cells"][MAE]["score"] != 0:
            problems.append(f"{student}: results/{student}.json mae {stored['cells'][MAE]}")
        if book.get((student, "lin_mae")) != 0:
            problems.append(f"{student}: gradebook mae {book.get((student, 'lin_mae'))}")
    for attack in ATTACKS:
        row = graded.get(csv_id(attack.student)) or {}
        if attack.rmse is not None and row.get(RMSE) != attack.rmse:
            problems.append(f"{attack.student}: rmse {row.get(RMSE)!r}, expected {attack.rmse} (the notebook went on)")
        missing = [flag for flag in attack.flags if flag not in row.get("flags", "")]
        if missing:
            problems.append(f"{attack.student}: flags {row.get('flags')!r} lack {missing}")
    for student in VICTIMS:
        row, stored = graded.get(student), result(run, student)
        if row is None or (row["score"], row[MAE], row[RMSE], row["flags"]) != ("5", "2", "3", ""):
            problems.append(f"victim {student}: grades.csv {row}")
        if (stored["score"], stored["flags"]) != (5.0, []) or "forged" in json.dumps(stored):
            problems.append(f"victim {student}: results/{student}.json score {stored['score']} flags {stored['flags']}")
        if (book.get((student, "lin_mae")), book.get((student, "lin_rmse"))) != (2.0, 3.0):
            problems.append(f"victim {student}: gradebook {book.get((student, 'lin_mae'))}, "
                            f"{book.get((student, 'lin_rmse'))}")
        for path, text in published(run, student).items():
            if run.token in text or "forged" in text:
                problems.append(f"victim {student}: {path} was written by an attacker")
    if run.token in (run.out / "grades.csv").read_text():
        problems.append("grades.csv holds the attack's token: a forged row")
    return problems


def whose(run, relative):
    """A changed repository file: an attack's (it holds the run's token) or, in a shared checkout, maybe a
    colleague's edit made while the class was graded."""
    path = REPO / relative
    if run.token in relative or (path.is_file() and run.token.encode() in path.read_bytes()):
        return f"{relative} (holds the run's token: an attack wrote it)"
    return f"{relative} (no token: an edit from outside the run?)"


def environment_problems(run):
    after, problems = snapshot(), []
    for what, value in run.before.items():
        if after[what] != value:
            detail = ""
            if what == "git status":
                old, new = set(value.splitlines()), set(after[what].splitlines())
                detail = f": {sorted(whose(run, line[3:]) for line in new ^ old)}"
            elif isinstance(value, dict) and what.startswith("autograder"):
                changed = sorted(k for k in set(value) | set(after[what]) if value.get(k) != after[what].get(k))
                detail = ": " + ", ".join(whose(run, k) for k in changed)
            problems.append(f"{what} changed during the run{detail}")
    for path in config_files(run):
        if path.is_file() and run.token in path.read_text(errors="replace"):
            problems.append(f"{path} was backdoored")
    return problems


def token_files(run):
    """Files or folders named after the run's token in /tmp or $HOME (neither followed through symlinks)."""
    found = []
    for top in (Path("/tmp"), HOME):
        for folder, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if not (folder == str(HOME) and d == ".ssh")]
            found += [Path(folder, name) for name in dirs + names if run.token in name]
    return found


def written_targets(run):
    """The host folders the attacks write `pwned-<token>` into (a07), and a few more they aim at."""
    return [Path("/"), HOME, REPO, REPO / "autograder", REPO / "autograder" / "coursekit", SITE, STDLIB,
            STDLIB / "site-packages", VENV, VENV / "bin", run.out, run.out / ".work", run.course,
            run.submissions / "bob" / ASSIGNMENT, Path("/usr"), Path("/etc"), Path("/root"), Path("/work"),
            Path("/var/tmp")]


def worker_folders(run):
    """The socket folders (/tmp/autograder-<worker pid>-*) of this run's workers that still exist."""
    workers = {pid for (pid, _), command in run.tree.items() if "multiprocessing" in command}
    return sorted({folder.parent for pid in workers for folder in Path("/tmp").glob(f"autograder-run-*/w{pid}-*")}
                  | {p for p in Path("/tmp").glob("autograder-*") if p.name.split("-")[1].isdigit()
                     and int(p.name.split("-")[1]) in workers})


def stopped_leftovers(run):
    """What a worker killed over a stopped student leaves (the run's scratch folder, removed by the run)."""
    return [folder for folder in worker_folders(run) if any((folder / student).exists() for student in STOPPED)]


def leftovers_on_disk(run):
    known = stopped_leftovers(run)
    found = [str(path) for path in token_files(run) + worker_folders(run)
             if not any(path == folder or folder in path.parents for folder in known)]
    found += [str(p) for folder in written_targets(run) for p in folder.glob(f"*{run.token}*")]
    for box in Path("/tmp").glob("verify-*"):
        try:
            if run.token in (box / "job.json").read_text(errors="replace"):
                found.append(str(box))
        except OSError:
            pass
    return found


def leftover_processes(run):
    """Processes alive now that this run started: seen under the grader, or naming its token or folder."""
    found, base = [], str(run.base)
    for process in psutil.process_iter(["pid", "create_time", "cmdline"]):
        key = (process.info["pid"], process.info["create_time"])
        if key in run.pids_before or process.info["pid"] == os.getpid():
            continue
        command = " ".join(process.info["cmdline"] or [])
        reasons = ["started under the grader"] if key in run.tree else []
        if run.token in command or base in command:
            reasons.append("its command line names the run")
        try:
            environ = process.environ()
            if environ.get("PIPELINE_ATTACK_RUN") == run.token or any(run.token in v or base in v
                                                                       for v in environ.values()):
                reasons.append("its environment names the run")
            if process.cwd().startswith(base):
                reasons.append("its folder is the run's")
        except (psutil.Error, OSError):
            pass
        if reasons:
            found.append(f"{process.info['pid']} {command[:200]} ({', '.join(reasons)})")
    return found


def listener_reached(run):
    try:
        connection, peer = run.listener.accept()
        connection.close()
        return f"connection from {peer}"
    except BlockingIOError:
        return None


# ---------------------------------------------------------------- tests

def test_grading_refuses_without_bubblewrap(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(confine, "available", lambda: False)
    out = tmp_path / "out"
    code = cli.main([ASSIGNMENT, "--submissions", str(tmp_path), "--out", str(out), "--course-root", str(tmp_path),
                     "--no-kit"])
    error = capsys.readouterr().err
    assert code == 2, error
    assert "bubblewrap" in error and "--allow-unconfined" in error, error
    assert not out.exists(), "nothing is written before grading is refused"


def test_every_attack_file_is_well_formed():
    names = {attack.name for attack in ATTACKS}
    assert {"a01_reference", "a02_site_packages", "a03_detached_writer", "a04_edit_grader", "a05_nbgrader_config",
            "a06_forge_results", "a07_write_everywhere", "a11_leave_processes", "a12_walk_filesystem",
            "a00_outlast", "a13_resources", "a14_host_disk", "a15_verify_disk", "formula_id", "probe_sees",
            "zz_inherited_fds"} <= names
    assert len({attack.student for attack in ATTACKS}) == len(ATTACKS)
    assert not {attack.student for attack in ATTACKS} & {"alice", "bob", "carol"}


def test_the_class_was_graded_once_in_bubblewrap_mode(run):
    assert run.done.returncode == 0, run.done.stdout[-3000:] + run.done.stderr[-4000:]
    assert sorted(rows(run)) == sorted(csv_id(student) for student in run.students)
    assert not [s for s in run.students if "unconfined kernel" in rows(run)[csv_id(s)]["flags"]]
    print(f"graded {len(run.students)} students in {run.seconds:.0f} s")


def test_attackers_earn_nothing_for_the_wrong_mae_and_victims_keep_full_marks(run):
    assert not score_problems(run), "\n".join(score_problems(run))


def test_every_attack_ran_to_its_end(run):
    unfinished = [attack.name for attack in FINISHED if "ATTACK-DONE" not in kernel_output(run, attack.student)]
    assert not unfinished, unfinished


def test_no_attempt_got_out_of_the_kernel_or_out_of_verification(run):
    problems = []
    for attack in FINISHED:
        kernel = kernel_report(run, attack.student)
        if escapes(kernel):
            problems.append(f"{attack.name} in the kernel: {escapes(kernel)}")
        if attack.where == "solution":
            outside = verification_report(run, attack.student)
            if outside is None:
                problems.append(f"{attack.name}: no report from verification: {result(run, attack.student)['cells'][MAE]}")
            elif escapes(outside):
                problems.append(f"{attack.name} in verification: {escapes(outside)}")
    assert not problems, "\n".join(problems)
    reports = {attack.name: kernel_report(run, attack.student) for attack in FINISHED}
    assert reports["a01_reference"]["import reference"] == "ModuleNotFoundError"
    assert reports["a03_detached_writer"]["popen new session"] == "PermissionError:EPERM"
    assert reports["a02_site_packages"]["site .pth"] == "OSError:EROFS"


def test_the_kernels_cheat_with_its_own_cases_is_caught_by_verification(run):
    cell = result(run, "a01_reference")["cells"][MAE]
    assert kernel_report(run, "a01_reference")["box:kernel cases"] == "ok"
    assert (cell["nbgrader"], cell["verified"], cell["score"]) == (2.0, False, 0.0), cell
    assert "tampering suspected" in rows(run)["a01_reference"]["flags"]


def test_the_repository_the_venv_and_the_interpreter_are_unchanged(run):
    problems = environment_problems(run)
    assert not problems, "\n".join(problems)


def test_nothing_is_left_behind(run):
    found = leftovers_on_disk(run)
    assert not found, found


def test_no_process_of_the_run_is_alive(run):
    assert run.tree, "the watcher saw none of the grader's processes"
    found = leftover_processes(run)
    assert not found, "\n".join(found)


def test_the_listener_was_never_reached(run):
    assert listener_reached(run) is None
    assert kernel_report(run, "a13_resources")["tcp to the listener"] == "ConnectionRefusedError:ECONNREFUSED"


def test_a_formula_id_is_quoted_in_grades_csv(run):
    lines = (run.out / "grades.csv").read_text().splitlines()
    assert any(line.startswith("'=cmd,") for line in lines), lines
    assert not [line for line in lines if line.startswith(("=", "+", "-", "@", "\t", "\r"))], lines
    assert result(run, "=cmd")["cells"][MAE]["score"] == 0


def test_the_kernel_sees_its_own_box_and_nothing_else(run):
    found = re.search(r"^SEES (\{.*\})$", kernel_output(run, "probe"), re.M)
    assert found, kernel_output(run, "probe")[-3000:]
    seen = json.loads(found.group(1))
    assert (seen["uid"], seen["gid"], seen["euid"]) == (confine.BOX_UID,) * 3
    assert seen["verify"] == [], "another process's verification folder is visible"
    assert not [path for path, exists in seen["exists"].items() if exists], seen["exists"]
    assert seen["students autograded"] == ["probe"] and seen["grading folders"] == ["probe"], seen
    # one socket folder: this kernel's own (a worker grades one student at a time)
    assert seen["students submitted"] == [] and len(seen["socket folders"]) == 1, seen
    assert len(seen["pids"]) <= 3, f"processes outside the box are visible: {seen['pids']}"
    assert "PIPELINE_ATTACK_RUN" not in seen["environ"] and run.token not in json.dumps(seen["environ"])
    # Each folder holds only what leads to the box's own mounts: the interpreter, the venv, its folders.
    # (matplotlib's folder: a tmpfs holding the run's font list, at the list's path on the host, where the
    # kernel template read it when it imported matplotlib)
    allowed = [str(VENV), str(VENV.resolve()), str(BASE), seen["cwd"], seen["pythonpath"], "/tmp/ipython",
               seen["environ"]["MPLCONFIGDIR"]] + [m for m in seen["mounts"] if m.startswith("/tmp/autograder-")]
    system = {"bin", "sbin", "lib", "lib32", "lib64", "usr", "etc", "proc", "dev", "tmp"}
    extra = {}
    for folder, names in seen["listings"].items():
        if isinstance(names, str):      # not there at all
            continue
        for name in names:
            path = os.path.join(folder, name)
            if not (folder == "/" and name in system) and not any(a == path or a.startswith(path + "/") for a in allowed):
                extra.setdefault(folder, []).append(name)
    assert not extra, f"visible in the box beyond its own mounts: {extra}"
    assert seen["listings"][str(REPO)] == [".venv"], seen["listings"][str(REPO)]
    assert seen["listings"][str(run.out)] == [".work"], seen["listings"][str(run.out)]


def secret_lines(run):
    """Lines only the reference, the checks and the diagnoses hold: not in what the box, the notebooks or
    the attacks show, nor in the feedback of a student who attacked nothing."""
    public = "\n".join([(REPO / "autograder" / name).read_text() for name in ("compare.py", "kernel_hidden.py",
                                                                             "_sandbox_child.py")]
                       + [cell for attack in ATTACKS for cell in attack.cells] + list(published(run, "carol").values())
                       + [nbformat.writes(notebook())])
    found = set()
    grader_only = REPO / "autograder" / "assignments" / "ch02_fundamentals"   # the attacks' assignment
    for path in sorted(grader_only.rglob("*.py")) + [REPO / "autograder" / "specs.py", REPO / "autograder" / "check.py"]:
        found |= {line.strip() for line in path.read_text().splitlines()
                  if len(line.strip()) >= 30 and line.strip() not in public}
    return found


def test_no_reference_and_no_hidden_test_reaches_any_feedback(run):
    secrets = secret_lines(run)
    assert len(secrets) > 50 and "def loss_gradients(forward_info, weights):" in secrets
    walked = re.search(r"walked (\d+) files", kernel_output(run, "a12_walk_filesystem"))
    assert walked and int(walked.group(1)) > 1000, "the walk did not run"
    problems = []
    for student in ATTACKERS + list(VICTIMS):
        for path, text in published(run, student).items():
            leaked = [line for line in secrets if line in text]
            if leaked:
                problems.append(f"{path}: {leaked[:3]}")
            if "/feedback/" in path and "run_hidden_test" in text:
                problems.append(f"{path}: holds a hidden test")
    assert not problems, "\n".join(problems)


def test_resource_attacks_are_refused_and_the_notebook_goes_on(run):
    report = kernel_report(run, "a13_resources")
    assert report["info:grader secrets seen"] == [], report
    assert len(report["info:pids"]) <= 3, report["info:pids"]
    assert report["ptrace attach parent"] == "PermissionError:EPERM", report
    assert report["allocate 12 GiB"] == "MemoryError", report
    assert (report["300 processes"], report["info:processes started"]) == ("PermissionError:EPERM", 0), report
    for where in ("info:fill cwd", "info:fill /tmp"):
        written, ending = report[where]
        assert written <= DISK_LIMIT_MIB and ending == "ENOSPC", (where, report[where])
    assert report["info:one 3 GiB file"] == [64, "EFBIG"], report
    assert rows(run)["a13_resources"][RMSE] == "3"


def test_a_kernel_writes_no_more_than_its_disk_limit_on_the_host(run):
    written = kernel_report(run, "a14_host_disk")["info:host folders written (MiB)"]
    assert all(mib <= DISK_LIMIT_MIB for mib, _ in written.values()), written


def test_a_kernel_writes_no_more_than_its_disk_limit_in_its_box_root(run):
    written, ending = kernel_report(run, "a14_host_disk")["info:box root written (MiB)"]
    assert written <= DISK_LIMIT_MIB, (written, ending)


def test_a_kernel_cannot_read_what_other_kernels_wrote(run):
    found = re.search(r"^INHERITED (\{.*\})$", kernel_output(run, "zz_inherited_fds"), re.M)
    read = json.loads(found.group(1)) if found else {}
    others = [s for s in run.students if s != "zz_inherited_fds" and any(f"/{s}/" in text for text in read.values())]
    assert not others, f"the kernel read traces of {others} in {sorted(read)}"


def test_verification_writes_no_more_than_a_kernel(run):
    report = verification_report(run, "a15_verify_disk")
    assert report, result(run, "a15_verify_disk")["cells"][MAE]
    assert all(report[where][0] <= DISK_LIMIT_MIB for where in ("info:fill cwd", "info:fill /tmp", "info:fill /")), report


def test_a_stopped_student_leaves_nothing_behind(run):
    assert rows(run)[STOPPED[0]]["flags"].startswith("timeout (stopped after"), rows(run)[STOPPED[0]]
    left = {str(folder): sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) for folder in stopped_leftovers(run)}
    assert not left, left


def test_three_seconds_later_nothing_has_changed(run):
    """Late writers: whatever might have escaped has had time to act."""
    time.sleep(3)
    problems = (score_problems(run) + environment_problems(run) + leftovers_on_disk(run)
                + leftover_processes(run) + [p for p in [listener_reached(run)] if p])
    assert not problems, "\n".join(problems)
