"""Find each student's notebooks: nbgrader's folder layout, or an LMS-style zip.

Folder:  DIR/<student_id>/<assignment>/<notebook>.ipynb   (nbgrader's `submitted/` layout)
    A student folder, assignment folder or notebook that is a symlink is never followed: the
    notebook is left out (so it is scored as missing) and the submission carries the flag
    `invalid notebook (<notebook>: symlink refused)`.
Zip, any mix of:
    <student_id>/<notebook>.ipynb  or  <student_id>/<assignment>/<notebook>.ipynb
        (the file name is exactly the notebook's, an LMS re-upload suffix like `-1` allowed)
    <student_id>_<anything>_<notebook>.ipynb   at the zip's top level only (nbgrader
        zip_collect / LMS download style; the student is everything before the first `_`)
A member belongs to one student by one of these rules, never both: a member in a folder is
its folder's, whatever its file name says. Two members for the same student and notebook,
or two different names that make the same student id, stop the intake (IntakeError): no
order decides who wins. Sizes and the member count are checked from the zip's directory
before anything is unpacked, and every member is read with a bounded read. The zip is then
unpacked into the folder layout member by member (no path from the zip is trusted), so both
inputs are graded the same way.
"""
import os
import re
import shutil
import stat
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from . import flags

MAX_MEMBER_BYTES = 20 * 2**20      # one member, uncompressed
MAX_TOTAL_BYTES = 2**30            # all members, uncompressed
MAX_MEMBERS = 10_000
MAX_ID_BYTES = 100                 # a student id is a folder name: keep it well under NAME_MAX
ID_PUNCTUATION = "._-"             # kept in ids besides letters, marks and digits of any script
LMS_SUFFIX = re.compile(r"-\d+$")  # an LMS re-upload: `01_linear_regression-1.ipynb`
REFUSED = Path(os.devnull)         # the folder of a refused student: never a directory, so nothing
                                   # is copied or hashed through their symlink


class IntakeError(ValueError):
    """The submissions can't be taken in as given (a cap, a conflict, two students under one id)."""


class IntakeWarning(UserWarning):
    """A zip member named like a notebook that is given to no student."""


@dataclass(frozen=True)
class Submission:
    student_id: str
    folder: Path                                  # DIR/<student_id>/<assignment>, may not exist
    notebooks: dict = field(default_factory=dict)  # notebook stem -> Path of the submitted file
    flags: tuple = ()                              # flags found at intake (flags.py words)


def notebook_stems(source: Path) -> list[str]:
    return sorted(path.stem for path in source.glob("*.ipynb"))


def student_id(raw: str) -> str:
    """A folder-safe id that keeps the name readable: letters, marks and digits of any script and
    `._-`; any other run becomes `_`. NFC first, so a name typed two ways is one id. Never empty,
    never `.`/`..`, never starting with `.`, `_` or `-`."""
    text = unicodedata.normalize("NFC", raw)
    kept = "".join(ch if ch in ID_PUNCTUATION or unicodedata.category(ch)[0] in "LMN" else "\0" for ch in text)
    cleaned = re.sub("\0+", "_", kept).strip(ID_PUNCTUATION)
    cleaned = cleaned.encode()[:MAX_ID_BYTES].decode(errors="ignore").strip(ID_PUNCTUATION)
    return cleaned or "unknown"


def refused_flag(stem: str) -> str:
    return f"{flags.INVALID} ({stem}: symlink refused)"


def from_folder(submissions: Path, assignment: str, stems: list[str]) -> list[Submission]:
    """Every student who has a folder for this assignment (a student of the course with only other
    assignments' folders did not submit this one, as in nbgrader's submitted/)."""
    found = []
    for student in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        folder = student / assignment
        if not (student.is_symlink() or folder.is_symlink() or folder.exists()):
            continue
        if student.is_symlink() or folder.is_symlink():
            found.append(Submission(student.name, REFUSED / student.name / assignment, {},
                                    tuple(refused_flag(stem) for stem in stems)))
            continue
        home = student.resolve()
        notebooks, refused = {}, []
        for stem in stems:
            path = folder / f"{stem}.ipynb"
            if path.is_symlink() or (path.exists() and not path.resolve().is_relative_to(home)):
                refused.append(refused_flag(stem))
            elif path.is_file():
                notebooks[stem] = path
        found.append(Submission(student.name, folder, notebooks, tuple(refused)))
    return found


# ---------------------------------------------------------------- zip

def _exact_stem(base: str, stems: list[str]):
    for candidate in (base, LMS_SUFFIX.sub("", base)):
        if candidate in stems:
            return candidate
    return None


def _lms_name(base: str, stems: list[str]):
    """(raw student name, stem) of an LMS file name `<student>_<anything>_<stem>[-N]`, or None."""
    for stem in sorted(stems, key=len, reverse=True):
        for candidate in (base, LMS_SUFFIX.sub("", base)):
            if candidate.endswith("_" + stem) and len(candidate) > len(stem) + 1:
                return candidate[: -len(stem) - 1].split("_")[0], stem
    return None


def classify(name: str, stems: list[str]):
    """What zip member `name` stands for: (raw student name, notebook stem); a str, the reason a
    notebook-like member is given to no one; or None for anything else (folders, other files,
    hidden files, macOS resource forks), which is skipped without a word."""
    parts = [p for p in re.split(r"[/\\]", name) if p not in ("", ".")]
    if not parts or not parts[-1].endswith(".ipynb"):
        return None
    if any(p.startswith(".") for p in parts) or parts[0] == "__MACOSX":
        return None if ".." not in parts else "a `..` in its path"
    if re.match(r"[/\\]|[A-Za-z]:", name):
        return "an absolute path"
    base = parts[-1][: -len(".ipynb")]
    if len(parts) == 1:
        if _exact_stem(base, stems):
            return "at the zip's top level without a student name"
        lms = _lms_name(base, stems)
        if lms is None:
            return "not one of the assignment's notebooks"
        return lms if lms[0] else "no student name before the first `_`"
    if len(parts) > 3:
        return "too deep: expected <student>/<notebook>.ipynb or <student>/<assignment>/<notebook>.ipynb"
    stem = _exact_stem(base, stems)
    if stem:
        return parts[0], stem
    if _lms_name(base, stems):
        return (f"named like an LMS file but inside the folder {parts[0]!r}: LMS-style names are "
                f"read at the zip's top level only, inside a student's folder the name must be the notebook's")
    return "not one of the assignment's notebooks"


def member_target(name: str, stems: list[str]):
    """(student_id, notebook stem) a zip member stands for, or None."""
    target = classify(name, stems)
    return (student_id(target[0]), target[1]) if isinstance(target, tuple) else None


@dataclass(frozen=True)
class ZipPlan:
    members: dict                  # (student_id, stem) -> ZipInfo
    ignored: tuple = ()            # (member name, reason): notebook-like members given to no one


def plan_zip(zipped: zipfile.ZipFile, stems: list[str], *, max_member_bytes=MAX_MEMBER_BYTES,
             max_total_bytes=MAX_TOTAL_BYTES, max_members=MAX_MEMBERS) -> ZipPlan:
    """Check the caps against the zip's directory, then give every member its student, or fail."""
    infos = zipped.infolist()
    if len(infos) > max_members:
        raise IntakeError(f"the zip has {len(infos)} members, over the cap of {max_members} (max_members)")
    total = 0
    for info in infos:
        if info.file_size > max_member_bytes:
            raise IntakeError(f"zip member {info.filename!r} unpacks to {info.file_size} bytes, over the "
                              f"cap of {max_member_bytes} bytes per member (max_member_bytes)")
        total += info.file_size
    if total > max_total_bytes:
        raise IntakeError(f"the zip unpacks to {total} bytes in all, over the cap of {max_total_bytes} "
                          f"bytes (max_total_bytes)")
    members, ignored, owners = {}, [], {}
    for info in sorted(infos, key=lambda i: i.filename):
        target = None if info.is_dir() else classify(info.filename, stems)
        if target is None:
            continue
        kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
        if isinstance(target, tuple) and kind not in (0, stat.S_IFREG):
            target = "not a regular file (a symlink?)"
        if isinstance(target, str):
            ignored.append((info.filename, target))
            continue
        if info.flag_bits & 0x1:
            raise IntakeError(f"zip member {info.filename!r} is encrypted")
        raw = unicodedata.normalize("NFC", target[0])
        sid = student_id(raw)
        other_raw, other_sid = owners.setdefault(sid.casefold(), (raw, sid))
        if other_raw != raw:
            how = "both become the student id" if other_sid == sid else "become ids that differ only in case:"
            raise IntakeError(f"two different student names {other_raw!r} and {raw!r} {how} "
                              f"{other_sid!r}{'' if other_sid == sid else f' / {sid!r}'}; rename one in the zip")
        key = (sid, target[1])
        if key in members:
            raise IntakeError(f"two zip members for student {sid!r}, notebook {target[1]!r}: "
                              f"{members[key].filename!r} and {info.filename!r}; keep one and rerun")
        members[key] = info
    return ZipPlan(members, tuple(ignored))


def read_member(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, reading at most limit + 1 whatever its directory entry says."""
    with zipped.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise IntakeError(f"zip member {info.filename!r} unpacks to more than its cap of {limit} bytes "
                          f"(its directory entry says {info.file_size})")
    return data


def unpack_zip(archive: Path, destination: Path, assignment: str, stems: list[str], *,
               max_member_bytes=MAX_MEMBER_BYTES, max_total_bytes=MAX_TOTAL_BYTES,
               max_members=MAX_MEMBERS) -> Path:
    """Unpack the notebooks of `archive` to destination/<student_id>/<assignment>/<stem>.ipynb.
    Nothing is written unless the whole zip passes (caps, conflicts, ids); a member that breaks a
    cap while being read removes what was written. Raises IntakeError; notebook-like members
    given to no one are reported as IntakeWarning."""
    try:
        zipped = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise IntakeError(f"can't read the zip {archive}: {exc}") from exc
    with zipped:
        try:
            plan = plan_zip(zipped, stems, max_member_bytes=max_member_bytes,
                            max_total_bytes=max_total_bytes, max_members=max_members)
        except (zipfile.BadZipFile, NotImplementedError) as exc:
            raise IntakeError(f"can't read the zip {archive}: {exc}") from exc
        for name, reason in plan.ignored:
            warnings.warn(f"zip member {name!r} not graded: {reason}", IntakeWarning, stacklevel=2)
        shutil.rmtree(destination, ignore_errors=True)
        destination.mkdir(parents=True)
        try:
            total = 0
            for (sid, stem), info in plan.members.items():
                data = read_member(zipped, info, max_member_bytes)
                total += len(data)
                if total > max_total_bytes:
                    raise IntakeError(f"the zip unpacks to more than its cap of {max_total_bytes} bytes in "
                                      f"all (max_total_bytes), though its directory said less")
                path = destination / sid / assignment / f"{stem}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "xb") as handle:
                    handle.write(data)
        except BaseException as exc:
            shutil.rmtree(destination, ignore_errors=True)
            if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)):
                raise IntakeError(f"can't read the zip {archive}: {exc}") from exc
            raise
    return destination
