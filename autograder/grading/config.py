"""Everything one grading run is told, in one frozen object that crosses into the workers."""
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .confine import BUBBLEWRAP, KernelLimits

COURSE_ROOT = Path(__file__).resolve().parents[2]
KIT = Path(__file__).resolve().parents[1] / "coursekit"
VERIFIER = "autograder.verify:verify_notebook"


@dataclass(frozen=True)
class GradingConfig:
    assignment: str
    out: Path
    course_root: Path = COURSE_ROOT          # holds source/<assignment> and nbgrader_config.py
    kit: Path | None = KIT                   # the instructor's coursekit, copied into every submission
    kit_name: str = "coursekit"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    cell_timeout: int | None = None          # None: nbgrader_config.py's Execute.timeout
    student_timeout: float = 900.0           # wall clock for one student, all notebooks and verification
    verifier: str | None = VERIFIER          # "module:function"; None trusts nbgrader alone (tests only)
    seed: int = 0                            # seed given to the outside verification
    figures: bool = False                    # render matplotlib figures into autograded notebooks/feedback
    course_id: str = "dlfs"
    confinement: str = BUBBLEWRAP            # or "unconfined", only when the grader accepts it explicitly
    kernel_limits: KernelLimits = field(default_factory=KernelLimits)
    fresh_kernels: bool = False              # True: a fresh interpreter per kernel, not a fork of the worker's template
    grader_state: str = ""                   # fingerprint.integrity at the start of the run, set by the run
    scratch: str = ""                        # the run's short-pathed folder for kernel sockets, set by the run
    fonts: str = ""                          # matplotlib's font list, built once by the run (no worker imports matplotlib)
    templates: str = ""                      # the folder of the run's template server (confine.TemplateServer), if any

    @property
    def record(self) -> Path:
        """OUT/nbgrader: nbgrader's course folder (gradebook, submitted, autograded, feedback)."""
        return self.out / "nbgrader"

    @property
    def results(self) -> Path:
        """One JSON file per graded student, written atomically when the student is done."""
        return self.out / "results"

    @property
    def feedback(self) -> Path:
        return self.out / "feedback"

    @property
    def work(self) -> Path:
        """Scratch: the template gradebook and one nbgrader course per worker process."""
        return self.out / ".work"

    @property
    def source(self) -> Path:
        return self.course_root / "source" / self.assignment


SCRATCH_PREFIX = "autograder-run-"


def scratch_folder() -> str:
    """A new folder for a run's kernel sockets, in the temporary folder (short paths), named after this
    process. A run removes its own when it ends; one whose process was killed first (a Dask worker's
    SIGKILL, a grader's) cannot, so the folders of ours whose process is gone are removed here."""
    for stale in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = stale.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        try:
            if pid.isdigit() and stale.lstat().st_uid == os.getuid() and not process_exists(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:                     # gone already: another run tidied it
            continue
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:                 # someone else's process
        return True
    return True
