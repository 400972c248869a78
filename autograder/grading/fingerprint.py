"""Content hashes: a student is regraded only when their submission or the grader changed."""
import hashlib
from pathlib import Path

SKIP = {"__pycache__", ".ipynb_checkpoints"}
PACKAGE = Path(__file__).resolve().parents[1]
# Files of the package that change no score: editing them must not regrade a class.
NO_SCORES = frozenset({"bench.py", "lab.py", "release.py", "__main__.py", "class_report.py"})


def hash_tree(paths, digest=None, root=None, skip=frozenset()):
    digest = digest or hashlib.sha256()
    for path in paths:
        path = Path(path)
        if path.name in skip:
            continue
        if path.is_dir():
            hash_tree(sorted(p for p in path.iterdir() if p.name not in SKIP and p.suffix != ".pyc"),
                      digest, root or path.parent, skip)
        elif path.is_file():
            digest.update(str(path.relative_to(root) if root else path.name).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest


def grader_fingerprint(config) -> str:
    """The source notebooks, the checks and this pipeline, plus the options that change scores."""
    digest = hash_tree([config.source, PACKAGE, config.course_root / "nbgrader_config.py"], skip=NO_SCORES)
    digest.update(repr((config.cell_timeout, config.verifier, config.seed, config.student_timeout, config.figures,
                        config.confinement, config.kernel_limits)).encode())
    return digest.hexdigest()


def site_packages():
    import numpy
    return Path(numpy.__file__).resolve().parents[1]


def integrity(config) -> str:
    """What the grader executes, hashed before and after every student: the package, the course's
    nbgrader_config.py, the source, and what Python loads at start-up (.pth files and the names in
    site-packages). A change means a student's code reached the grader: the run stops."""
    packages = site_packages()
    digest = hash_tree([PACKAGE, config.course_root / "nbgrader_config.py", config.source, config.record / "source"]
                       + sorted(packages.glob("*.pth")) + sorted(packages.glob("__editable__*")))
    digest.update("\0".join(sorted(p.name for p in packages.iterdir())).encode())
    return digest.hexdigest()


def submission_digest(submission, kit_name: str, grader: str) -> str:
    """Every file the student handed in for the assignment (their coursekit is replaced anyway)."""
    digest = hashlib.sha256(grader.encode())
    digest.update(repr((sorted(submission.notebooks), tuple(submission.flags))).encode())
    folder = submission.folder
    if folder.is_dir() and not folder.is_symlink():
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                       and not (set(p.relative_to(folder).parts) & (SKIP | {kit_name})))
        hash_tree(files, digest, folder)
    return digest.hexdigest()
