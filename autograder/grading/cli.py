"""`python -m autograder grade ASSIGNMENT --submissions DIR | --zip FILE --out DIR [--workers N]
[--scheduler ADDRESS|local]`."""
import argparse
import contextlib
import os
import sys
from pathlib import Path

from . import confine, intake, report
from .confine import KernelLimits
from .config import COURSE_ROOT, KIT, VERIFIER, GradingConfig
from .executor import EngineError
from .run import ClassRun, GraderChanged, run_class


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m autograder grade", description=__doc__,
                                     epilog="Layout of OUT and the zip naming rules: docs/grading.md")
    parser.add_argument("assignment")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--submissions", type=Path, help="DIR/<student_id>/<assignment>/<notebook>.ipynb")
    given.add_argument("--zip", type=Path, help="an LMS-style zip of notebooks")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes of the local pool, or of --scheduler local (default: the cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS|local",
                        help="grade on the workers of a running Dask scheduler (e.g. tcp://10.0.0.5:8786), or "
                             "'local': a Dask LocalCluster of --workers processes here (docs/grading.md)")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds per cell (default: Execute.timeout in nbgrader_config.py)")
    parser.add_argument("--student-timeout", type=float, default=900.0,
                        help="wall clock for one student; past it the student is stopped and flagged")
    parser.add_argument("--figures", action="store_true",
                        help="keep matplotlib figures in the autograded notebooks and feedback (slower)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the outside verification")
    parser.add_argument("--verifier", default=VERIFIER, help=argparse.SUPPRESS)
    parser.add_argument("--course-root", type=Path, default=COURSE_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--no-kit", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    box = parser.add_argument_group("the student's kernel (confined with bubblewrap; docs/threat-model.md)")
    box.add_argument("--allow-unconfined", action="store_true",
                     help="grade even where bubblewrap cannot confine the kernel: student code then sees this "
                          "machine's files (only for submissions you trust, e.g. the bundled examples)")
    box.add_argument("--unconfined", action="store_true", help=argparse.SUPPRESS)   # the bench's comparison
    box.add_argument("--fresh-kernels", action="store_true",
                     help="start every kernel as a new interpreter, as plain nbgrader does, instead of forking it "
                          "from the worker's kernel template (same box, same results; slower)")
    box.add_argument("--kernel-memory", type=mebibytes, default=KernelLimits.memory_bytes >> 20, metavar="MiB",
                     help="address space of a student's kernel (default %(default)s)")
    box.add_argument("--kernel-cpu", type=int, default=KernelLimits.cpu_seconds, metavar="SECONDS",
                     help="CPU time of one notebook's kernel (default %(default)s)")
    box.add_argument("--kernel-disk", type=mebibytes, default=KernelLimits.disk_bytes >> 20, metavar="MiB",
                     help="what a kernel may write, in its folder and in /tmp each (default %(default)s)")
    return parser.parse_args(argv)


def mebibytes(text):
    value = int(text)
    if value < 16:
        raise argparse.ArgumentTypeError(f"{value} MiB is too small to start a kernel")
    return value


def confinement(allow_unconfined: bool, force_unconfined=False, available=None, where="this machine"):
    """("bubblewrap" or "unconfined", None) or (None, the reason grading cannot start).

    `available` says whether the machines that run kernels can confine them: this one, or (with
    --scheduler) every Dask worker."""
    if force_unconfined:
        return confine.UNCONFINED, None
    if (available or confine.available)():     # looked up now: tests stand in for a machine without it
        return confine.BUBBLEWRAP, None
    if allow_unconfined:
        return confine.UNCONFINED, None
    return None, (f"bubblewrap cannot confine the grading kernel on {where}, so student code would see "
                  "its files (the repository, the reference solutions, other students).\n"
                  "Install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
                  "bubblewrap) and check that unprivileged user namespaces are enabled; or, for submissions "
                  "you trust, pass --allow-unconfined.")


def run(config: GradingConfig, submissions_dir: Path, quiet=False, executor=None):
    """Grade a class from a folder: (results in submission order, graded now, seconds). See run.py."""
    return run_class(ClassRun(config, submissions_dir, quiet=quiet, executor=executor))


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    with contextlib.ExitStack() as stack:
        executor = None
        if args.scheduler:
            from . import distributed     # dask is imported only for a run that asks for it
            try:
                executor = stack.enter_context(distributed.open_executor(args.scheduler, args.workers))
            except (OSError, TimeoutError, ValueError) as exc:
                print(f"cannot reach the Dask scheduler at {args.scheduler}: {exc}", file=sys.stderr)
                return 2
            if not args.quiet:
                print(f"grading on the Dask scheduler at {executor.address} ({executor.describe()} now; "
                      f"students wait in its queue until a worker takes them)", file=sys.stderr)
        return grade(args, executor)


def grade(args, executor) -> int:
    if executor is None:
        mode, refusal = confinement(args.allow_unconfined, args.unconfined)
    else:
        mode, refusal = confinement(args.allow_unconfined, args.unconfined, executor.confinement_available,
                                    where="every Dask worker")
    if refusal:
        print(f"grading refused: {refusal}", file=sys.stderr)
        return 2
    if mode == confine.UNCONFINED:
        print("WARNING: kernels run UNCONFINED (--allow-unconfined): every student's code can read and write "
              "what this user can. Every result is flagged 'unconfined kernel'.", file=sys.stderr)
    limits = KernelLimits(memory_bytes=args.kernel_memory << 20, cpu_seconds=args.kernel_cpu,
                          disk_bytes=args.kernel_disk << 20)
    config = GradingConfig(args.assignment, args.out.resolve(), course_root=args.course_root.resolve(),
                           kit=None if args.no_kit else KIT, workers=args.workers,
                           cell_timeout=args.cell_timeout, student_timeout=args.student_timeout,
                           verifier=None if args.verifier in ("", "none") else args.verifier, seed=args.seed,
                           figures=args.figures, confinement=mode, kernel_limits=limits,
                           fresh_kernels=args.fresh_kernels)
    if not config.source.is_dir():
        print(f"no assignment {config.source}", file=sys.stderr)
        return 2
    config.out.mkdir(parents=True, exist_ok=True)
    try:
        if args.submissions is not None and not args.submissions.is_dir():
            print(f"no folder {args.submissions}", file=sys.stderr)
            return 2
        results, graded_now, seconds = run_class(ClassRun(config, args.submissions, args.zip, quiet=args.quiet,
                                                          executor=executor))
    except intake.IntakeError as exc:
        print(f"submissions refused: {exc}", file=sys.stderr)
        return 2
    except (GraderChanged, EngineError) as exc:
        print(f"GRADING STOPPED: {exc}", file=sys.stderr)
        return 3
    print(report.summary(results, graded_now, seconds))
    print(f"wrote {config.out / 'grades.csv'}, report in {config.out / 'report' / 'index.html'}, "
          f"feedback in {config.feedback}, "
          f"nbgrader course in {config.record}")
    return 0
