"""Find each student's notebooks: nbgrader's folder layout, or an LMS-style zip.

Folder:  DIR/<student_id>/<assignment>/<notebook>.ipynb   (nbgrader's `submitted/` layout)
Zip, any mix of:
    <student_id>/<notebook>.ipynb  or  <student_id>/<assignment>/<notebook>.ipynb
    <student_id>_<anything>_<notebook>.ipynb   (nbgrader zip_collect / LMS download style;
                                               an LMS re-upload suffix like `-1` is allowed)
A zip is unpacked into the folder layout first, member by member (no path from the
zip is trusted), so both inputs are graded the same way.
"""
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Submission:
    student_id: str
    folder: Path                                  # DIR/<student_id>/<assignment>, may not exist
    notebooks: dict = field(default_factory=dict)  # notebook stem -> Path of the submitted file


def notebook_stems(source: Path) -> list[str]:
    return sorted(path.stem for path in source.glob("*.ipynb"))


def student_id(raw: str) -> str:
    return SAFE_ID.sub("_", raw).strip("._") or "unknown"


def from_folder(submissions: Path, assignment: str, stems: list[str]) -> list[Submission]:
    found = []
    for student in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        folder = student / assignment
        notebooks = {stem: folder / f"{stem}.ipynb" for stem in stems if (folder / f"{stem}.ipynb").is_file()}
        found.append(Submission(student.name, folder, notebooks))
    return found


def member_target(name: str, stems: list[str]):
    """(student_id, notebook stem) a zip member stands for, or None."""
    parts = [p for p in name.replace("\\", "/").split("/") if p and p not in (".", "..")]
    if not parts or not parts[-1].endswith(".ipynb") or parts[-1].startswith("."):
        return None
    base = re.sub(r"-\d+$", "", parts[-1][: -len(".ipynb")])
    for stem in sorted(stems, key=len, reverse=True):
        if len(parts) >= 2 and base == stem:
            return student_id(parts[0]), stem
        if base.endswith("_" + stem) and len(base) > len(stem) + 1:
            return student_id(base[: -len(stem) - 1].split("_")[0]), stem
    return None


def unpack_zip(archive: Path, destination: Path, assignment: str, stems: list[str]) -> Path:
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zipped:
        for info in sorted(zipped.infolist(), key=lambda i: i.filename):
            target = None if info.is_dir() else member_target(info.filename, stems)
            if target:
                path = destination / target[0] / assignment / f"{target[1]}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(zipped.read(info))
    return destination
