"""Intake is strict: who a zip member belongs to, conflicts, ids, caps, and symlinks in a folder."""
import os
import unicodedata
import warnings
import zipfile

import pytest

from autograder.grading import flags, intake

STEMS = ["01_linear_regression", "02_neural_network"]
NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def make_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zipped:
        for name, data in members:
            zipped.writestr(name, data)
    return path


def unpack(tmp_path, members, **caps):
    archive = make_zip(tmp_path / "class.zip", members)
    return intake.unpack_zip(archive, tmp_path / "out", "a1", STEMS, **caps)


def layout(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- who a member belongs to

def test_an_lms_name_inside_someone_elses_folder_is_given_to_no_one(tmp_path):
    with pytest.warns(intake.IntakeWarning, match=r"mallory/bob_x_01_linear_regression.ipynb.*top level only"):
        folder = unpack(tmp_path, [("bob_1_01_linear_regression.ipynb", "bob's"),
                                   ("mallory/bob_x_01_linear_regression.ipynb", "mallory's")])
    assert layout(folder) == ["bob/a1/01_linear_regression.ipynb"]
    assert (folder / "bob/a1/01_linear_regression.ipynb").read_text() == "bob's"
    assert intake.member_target("mallory/bob_x_01_linear_regression.ipynb", STEMS) is None
    assert intake.member_target("mallory/mallory_x_01_linear_regression.ipynb", STEMS) is None


def test_an_lms_name_inside_a_folder_is_not_bobs_even_without_a_bob_file(tmp_path):
    with pytest.warns(intake.IntakeWarning):
        folder = unpack(tmp_path, [("mallory/bob_x_01_linear_regression.ipynb", "mallory's")])
    assert layout(folder) == []


@pytest.mark.parametrize("name, want", [
    ("alice/01_linear_regression-2.ipynb", ("alice", "01_linear_regression")),
    ("alice\\a1\\02_neural_network.ipynb", ("alice", "02_neural_network")),
    ("./alice/01_linear_regression.ipynb", ("alice", "01_linear_regression")),
    ("bob_01_linear_regression.ipynb", ("bob", "01_linear_regression")),
    ("alice/a1/extra/01_linear_regression.ipynb", None),
    ("alice/my_01_linear_regression.ipynb", None),
    ("/alice/01_linear_regression.ipynb", None),
    ("../bob_x_01_linear_regression.ipynb", None),
    ("alice/../bob/01_linear_regression.ipynb", None),
    ("_x_01_linear_regression.ipynb", None),
    ("alice/.ipynb_checkpoints/01_linear_regression.ipynb", None),
    ("alice/01_linear_regression.ipynb.txt", None),
])
def test_member_names_strictly(name, want):
    assert intake.member_target(name, STEMS) == want


# ---------------------------------------------------------------- conflicts are errors, not order

@pytest.mark.parametrize("members", [
    [("alice/01_linear_regression.ipynb", "1"), ("alice_1_01_linear_regression.ipynb", "2")],
    [("alice/01_linear_regression.ipynb", "1"), ("alice/01_linear_regression-1.ipynb", "2")],
    [("alice/a1/01_linear_regression.ipynb", "1"), ("alice/old/01_linear_regression.ipynb", "2")],
    [("alice_1_01_linear_regression.ipynb", "1"), ("alice_late_01_linear_regression-1.ipynb", "2")],
])
def test_two_members_for_one_notebook_are_a_conflict_naming_both(tmp_path, members):
    with pytest.raises(intake.IntakeError) as error:
        unpack(tmp_path, members)
    assert members[0][0] in str(error.value) and members[1][0] in str(error.value)
    assert not (tmp_path / "out").exists()


def test_a_member_named_twice_in_the_zip_is_a_conflict(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # zipfile: "Duplicate name"
        members = [("alice/01_linear_regression.ipynb", "1"), ("alice/01_linear_regression.ipynb", "2")]
        with pytest.raises(intake.IntakeError, match="two zip members"):
            unpack(tmp_path, members)


def test_one_student_in_both_forms_with_different_notebooks_is_fine(tmp_path):
    folder = unpack(tmp_path, [("alice/01_linear_regression.ipynb", NB), ("alice_1_02_neural_network.ipynb", NB)])
    assert layout(folder) == ["alice/a1/01_linear_regression.ipynb", "alice/a1/02_neural_network.ipynb"]


# ---------------------------------------------------------------- ids

def test_names_that_clean_up_alike_are_refused_naming_both(tmp_path):
    with pytest.raises(intake.IntakeError) as error:
        unpack(tmp_path, [("Alice Smith/01_linear_regression.ipynb", NB), ("Alice_Smith/02_neural_network.ipynb", NB)])
    assert "'Alice Smith'" in str(error.value) and "'Alice_Smith'" in str(error.value)
    assert not (tmp_path / "out").exists()


def test_names_that_differ_only_in_case_are_refused(tmp_path):
    with pytest.raises(intake.IntakeError, match="case"):
        unpack(tmp_path, [("alice/01_linear_regression.ipynb", NB), ("Alice/02_neural_network.ipynb", NB)])


def test_jose_typed_two_ways_is_one_student_who_keeps_the_accent(tmp_path):
    nfc, nfd = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
    assert nfc != nfd
    folder = unpack(tmp_path, [(f"{nfc}/01_linear_regression.ipynb", NB), (f"{nfd}_1_02_neural_network.ipynb", NB)])
    assert layout(folder) == [f"{nfc}/a1/01_linear_regression.ipynb", f"{nfc}/a1/02_neural_network.ipynb"]
    assert [s.student_id for s in intake.from_folder(folder, "a1", STEMS)] == ["José"]


def test_jose_and_josè_are_two_students(tmp_path):
    folder = unpack(tmp_path, [("José/01_linear_regression.ipynb", NB), ("Josè/01_linear_regression.ipynb", NB)])
    assert sorted(os.listdir(folder)) == sorted(["José", "Josè"])


def test_a_name_in_another_script_is_kept(tmp_path):
    folder = unpack(tmp_path, [("李雷/01_linear_regression.ipynb", NB), ("हिन्दी_1_01_linear_regression.ipynb", NB)])
    assert sorted(os.listdir(folder)) == sorted(["李雷", "हिन्दी"])


@pytest.mark.parametrize("raw, want", [
    ("Alice Smith", "Alice_Smith"), ("李雷", "李雷"), ("..", "unknown"), (".", "unknown"), ("", "unknown"),
    (".hidden", "hidden"), ("-rf", "rf"), ("a/b\\c", "a_b_c"), ("x\x1b[31my", "x_31my"), ("🙂", "unknown"),
])
def test_student_ids(raw, want):
    assert intake.student_id(raw) == want


def test_ids_are_never_dot_or_empty_and_fit_a_folder_name():
    for raw in ["", ".", "..", "...", "._-", "\x00", "\u202e", "a" * 1000, "é" * 1000, "李" * 1000]:
        sid = intake.student_id(raw)
        assert sid and sid not in (".", "..") and not sid.startswith(".") and "/" not in sid
        assert len(sid.encode()) <= intake.MAX_ID_BYTES


# ---------------------------------------------------------------- caps

def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", [("alice/01_linear_regression.ipynb", b"\0" * (4 * 2**20))],
                       zipfile.ZIP_DEFLATED)
    assert archive.stat().st_size < 2**16
    with pytest.raises(intake.IntakeError, match=r"4194304 bytes.*cap of 1048576 .*max_member_bytes"):
        intake.unpack_zip(archive, tmp_path / "out", "a1", STEMS, max_member_bytes=2**20)
    assert not (tmp_path / "out").exists()


def test_the_total_size_is_capped(tmp_path):
    members = [(f"s{i}/01_linear_regression.ipynb", b"\0" * 1000) for i in range(5)]
    with pytest.raises(intake.IntakeError, match=r"5000 bytes.*cap of 4000 .*max_total_bytes"):
        unpack(tmp_path, members, max_total_bytes=4000)
    assert not (tmp_path / "out").exists()
    assert layout(unpack(tmp_path, members, max_total_bytes=5000)) == [
        f"s{i}/a1/01_linear_regression.ipynb" for i in range(5)]


def test_the_member_count_is_capped(tmp_path):
    members = [(f"junk/{i}.txt", "") for i in range(11)]
    with pytest.raises(intake.IntakeError, match=r"11 members.*cap of 10 .*max_members"):
        unpack(tmp_path, members, max_members=10)
    assert not (tmp_path / "out").exists()


def test_default_caps():
    assert (intake.MAX_MEMBER_BYTES, intake.MAX_TOTAL_BYTES, intake.MAX_MEMBERS) == (20 * 2**20, 2**30, 10_000)


def test_a_member_is_read_with_a_bounded_read(tmp_path):
    archive = make_zip(tmp_path / "c.zip", [("alice/01_linear_regression.ipynb", b"x" * 5000)], zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(archive) as zipped:
        info = zipped.infolist()[0]
        assert intake.read_member(zipped, info, 5000) == b"x" * 5000
        with pytest.raises(intake.IntakeError, match="more than its cap of 4999"):
            intake.read_member(zipped, info, 4999)


def test_a_directory_that_understates_a_size_is_refused_and_nothing_is_left(tmp_path, monkeypatch):
    archive = make_zip(tmp_path / "c.zip", [("alice/01_linear_regression.ipynb", NB),
                                            ("bob/01_linear_regression.ipynb", b"\0" * 100_000)], zipfile.ZIP_DEFLATED)
    real = zipfile.ZipFile.infolist

    def lying(self):
        infos = real(self)
        for info in infos:
            info.file_size = min(info.file_size, 100)
        return infos
    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    with pytest.raises(intake.IntakeError):
        intake.unpack_zip(archive, tmp_path / "out", "a1", STEMS, max_member_bytes=1000)
    assert not (tmp_path / "out").exists()


def test_not_a_zip_is_an_intake_error(tmp_path):
    (tmp_path / "x.zip").write_text("not a zip")
    with pytest.raises(intake.IntakeError, match="can't read"):
        intake.unpack_zip(tmp_path / "x.zip", tmp_path / "out", "a1", STEMS)
    with pytest.raises(intake.IntakeError, match="can't read"):
        intake.unpack_zip(tmp_path / "missing.zip", tmp_path / "out", "a1", STEMS)


def test_a_symlink_member_is_not_unpacked(tmp_path):
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        info = zipfile.ZipInfo("alice/01_linear_regression.ipynb")
        info.create_system = 3
        info.external_attr = (0o120777) << 16
        zipped.writestr(info, "/etc/passwd")
    with pytest.warns(intake.IntakeWarning, match="regular file"):
        folder = intake.unpack_zip(archive, tmp_path / "out", "a1", STEMS)
    assert layout(folder) == []


def test_a_failed_zip_leaves_the_previous_unpack_alone(tmp_path):
    unpack(tmp_path, [("alice/01_linear_regression.ipynb", NB)])
    with pytest.raises(intake.IntakeError):
        unpack(tmp_path, [("alice/01_linear_regression.ipynb", NB), ("alice_1_01_linear_regression.ipynb", NB)])
    assert layout(tmp_path / "out") == ["alice/a1/01_linear_regression.ipynb"]


# ---------------------------------------------------------------- folder intake refuses symlinks

def refused(stem):
    return f"{flags.INVALID} ({stem}: symlink refused)"


def test_a_symlinked_notebook_is_refused_and_flagged(tmp_path):
    secret = tmp_path / "secret.ipynb"
    secret.write_text(NB)
    folder = tmp_path / "submitted" / "mallory" / "a1"
    folder.mkdir(parents=True)
    (folder / "01_linear_regression.ipynb").symlink_to(secret)
    (folder / "02_neural_network.ipynb").write_text(NB)
    [submission] = intake.from_folder(tmp_path / "submitted", "a1", STEMS)
    assert submission.student_id == "mallory" and submission.folder == folder
    assert submission.notebooks == {"02_neural_network": folder / "02_neural_network.ipynb"}
    assert submission.flags == (refused("01_linear_regression"),)
    assert submission.flags[0] == "invalid notebook (01_linear_regression: symlink refused)"


def test_a_dangling_symlinked_notebook_is_refused_too(tmp_path):
    folder = tmp_path / "submitted" / "mallory" / "a1"
    folder.mkdir(parents=True)
    (folder / "01_linear_regression.ipynb").symlink_to(tmp_path / "nowhere")
    [submission] = intake.from_folder(tmp_path / "submitted", "a1", STEMS)
    assert submission.notebooks == {} and submission.flags == (refused("01_linear_regression"),)


@pytest.mark.parametrize("link", ["student", "assignment"])
def test_a_symlinked_student_or_assignment_folder_is_never_followed(tmp_path, link):
    elsewhere = tmp_path / "ta_home"
    (elsewhere / "a1").mkdir(parents=True)
    for stem in STEMS:
        (elsewhere / "a1" / f"{stem}.ipynb").write_text(NB)
    (elsewhere / "a1" / "secret.txt").write_text("ta only")
    submitted = tmp_path / "submitted"
    (submitted / "alice" / "a1").mkdir(parents=True)
    (submitted / "alice" / "a1" / "01_linear_regression.ipynb").write_text(NB)
    if link == "student":
        (submitted / "mallory").symlink_to(elsewhere, target_is_directory=True)
    else:
        (submitted / "mallory").mkdir()
        (submitted / "mallory" / "a1").symlink_to(elsewhere / "a1", target_is_directory=True)
    alice, mallory = intake.from_folder(submitted, "a1", STEMS)
    assert (alice.student_id, sorted(alice.notebooks), alice.flags) == ("alice", ["01_linear_regression"], ())
    assert mallory.student_id == "mallory" and mallory.notebooks == {}
    assert mallory.flags == tuple(refused(stem) for stem in STEMS)
    assert not mallory.folder.is_dir()             # nothing is copied or hashed through the link
    assert not os.path.realpath(mallory.folder).startswith(str(elsewhere))


def test_a_symlink_to_a_file_at_the_top_is_not_a_student(tmp_path):
    (tmp_path / "submitted").mkdir()
    (tmp_path / "notes").write_text("x")
    (tmp_path / "submitted" / "notes").symlink_to(tmp_path / "notes")
    assert intake.from_folder(tmp_path / "submitted", "a1", STEMS) == []


def test_submission_fields_keep_their_order():
    assert [f for f in intake.Submission.__dataclass_fields__] == ["student_id", "folder", "notebooks", "flags"]
    assert intake.Submission("s", intake.REFUSED).flags == ()


def test_a_student_with_only_other_assignments_is_not_a_submission_of_this_one(tmp_path):
    submitted = tmp_path / "submitted"
    for student, assignment in (("alice", "a1"), ("bob", "a2"), ("carol", "a1")):
        (submitted / student / assignment).mkdir(parents=True)
        (submitted / student / assignment / "01_linear_regression.ipynb").write_text(NB)
    (submitted / "dave" / "a1").mkdir(parents=True)          # an empty folder: submitted nothing
    assert [s.student_id for s in intake.from_folder(submitted, "a1", STEMS)] == ["alice", "carol", "dave"]
    assert [s.student_id for s in intake.from_folder(submitted, "a2", STEMS)] == ["bob"]
