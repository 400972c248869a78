"""Content hashes: a student is regraded only when their submission or the grader changed."""
import hashlib
from pathlib import Path

GRADER_FILES = ("specs.py", "hidden.py", "diagnose.py", "verify.py", "reference", "coursekit", "grading")
SKIP = {"__pycache__", ".ipynb_checkpoints"}


def hash_tree(paths, digest=None, root=None):
    digest = digest or hashlib.sha256()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            hash_tree(sorted(p for p in path.iterdir() if p.name not in SKIP and p.suffix != ".pyc"),
                      digest, root or path.parent)
        elif path.is_file():
            digest.update(str(path.relative_to(root) if root else path.name).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest


def grader_fingerprint(config) -> str:
    """The source notebooks, the checks and this pipeline, plus the options that change scores."""
    package = Path(__file__).resolve().parents[1]
    digest = hash_tree([config.source] + [package / name for name in GRADER_FILES])
    digest.update(repr((config.cell_timeout, config.verifier, config.seed, config.student_timeout, config.figures)).encode())
    return digest.hexdigest()


def submission_digest(submission, kit_name: str, grader: str) -> str:
    """Every file the student handed in for the assignment (their coursekit is replaced anyway)."""
    digest = hashlib.sha256(grader.encode())
    folder = submission.folder
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*") if p.is_file()
                       and not (set(p.relative_to(folder).parts) & (SKIP | {kit_name})))
        hash_tree(files, digest, folder)
    return digest.hexdigest()
