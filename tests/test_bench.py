"""The bench's pure parts: what it reads from /proc, how it splits CPU into fixed and per-student costs,
the phases it reads from result files and notebooks, and its tables. (Running it is `make bench`.)"""
import math

import pytest

from autograder import bench

ROLLUP = """\
55c96c181000-7ffed6766000 ---p 00000000 00:00 0                          [rollup]
Rss:              143244 kB
Pss:              108506 kB
Pss_Dirty:         97144 kB
Pss_Anon:          97144 kB
Shared_Clean:      45956 kB
Private_Dirty:     97144 kB
SwapPss:               0 kB
"""


def test_smaps_rollup_gives_kilobytes_by_name():
    values = bench.parse_smaps_rollup(ROLLUP)
    assert values["Pss"] == 108506 and values["Rss"] == 143244 and values["SwapPss"] == 0
    assert values["Pss_Anon"] == 97144
    assert all(not key.startswith("55c9") for key in values)     # the range line is not a field


def test_smaps_rollup_of_nothing_is_empty():
    assert bench.parse_smaps_rollup("") == {}


def test_stat_counts_fields_after_the_last_parenthesis():
    # a command name with spaces and parentheses; utime 250 stime 50 cutime 30 cstime 20 ticks
    text = "4242 (python (a) b) S 17 4242 4242 0 -1 4194304 100 0 0 0 250 50 30 20 20 0 3 0 12345 0 0\n"
    stat = bench.parse_stat(text, tick=100)
    assert stat.ppid == 17
    assert stat.own == pytest.approx(3.0)
    assert stat.reaped == pytest.approx(0.5)


def test_owners_follow_parents_to_the_nearest_worker():
    S = bench.ProcStat
    stats = {1: S(0, 0, 0),                  # the main process
             10: S(1, 0, 0), 11: S(10, 0, 0), 12: S(11, 0, 0),     # worker 10, its box, its kernel
             20: S(1, 0, 0), 21: S(20, 0, 0),                       # worker 20, its helper
             30: S(1, 0, 0),                                        # the resource tracker
             40: S(999, 0, 0)}                                      # an orphan
    found = bench.owners(stats, {10, 20})
    assert found[10] == found[11] == found[12] == 10
    assert found[20] == found[21] == 20
    assert found[1] is None and found[30] is None and found[40] is None


def test_the_workers_memory_counts_their_trees_and_what_serves_them_all():
    S = bench.ProcStat
    stats = {1: S(0, 0, 0), 5: S(1, 0, 0), 6: S(1, 0, 0),           # the main process, the fork server, the
             10: S(5, 0, 0), 11: S(10, 0, 0), 20: S(5, 0, 0),       # template server; workers forked from
             30: S(1, 0, 0)}                                        # the first, a kernel; the resource tracker
    owner = bench.owners(stats, {10, 20})
    pss = {1: 1000, 5: 600, 6: 300, 10: 100, 11: 50, 20: 70, 30: 9}
    assert bench.pss_of_workers(pss, owner, {5, 6}) == 600 + 300 + 100 + 50 + 70
    assert bench.pss_of_workers(pss, owner, set()) == 100 + 50 + 70
    lines = {5: "python -B -c from multiprocessing.forkserver import main; main(7, 9, ['m'])",
             6: "python .../kernel_template.py --server 3"}
    assert bench.role(5, stats, 1, owner, lambda p: lines.get(p, "")) == "workers"
    assert bench.role(6, stats, 1, owner, lambda p: lines.get(p, "")) == "templates"
    assert bench.role(30, stats, 1, owner, lambda p: "python -c from multiprocessing.resource_tracker") == "other"


def test_cpu_at_interpolates_between_samples():
    ticks = [(10.0, 0.0), (12.0, 4.0), (13.0, 4.0)]
    assert bench.cpu_at(ticks, 11.0) == pytest.approx(2.0)
    assert bench.cpu_at(ticks, 12.5) == pytest.approx(4.0)
    assert bench.cpu_at(ticks, 5.0) == 0.0 and bench.cpu_at(ticks, 99.0) == 4.0
    assert math.isnan(bench.cpu_at([], 1.0))


def test_steady_rate_of_a_pool_run():
    # 2 workers that start for 3 s each, then 6 s per student, 10 students; 5 s in the main process
    completions = [5 + 2 * 3 + 6 * (i + 1) for i in range(10)]        # CPU at each completion
    steady, window = bench.steady_rate(completions, workers=2)
    assert window == (2, 9)             # from the 2nd to the (10 - 2 + 1)-th completion
    assert steady == pytest.approx(6.0)


def test_steady_rate_leaves_out_the_first_students_of_each_worker():
    # the first student of each worker costs 4 s more (warm-up); steady is measured past them
    steady, window = bench.steady_rate([10, 24, 30, 36, 42, 48], workers=2)
    assert window == (2, 5) and steady == pytest.approx(6.0)


def test_steady_rate_of_a_serial_run_and_of_few_students():
    assert bench.steady_rate([20.0, 40.0, 60.0, 80.0], workers=1) == (pytest.approx(20.0), (1, 4))
    assert bench.steady_rate([10.0, 20.0], workers=2) == (pytest.approx(10.0), (1, 2))
    assert bench.steady_rate([9.0], workers=1) == (None, ())


def test_fixed_costs_split_the_rest_between_the_run_and_the_workers():
    # 10 students at 6 s, of which 5.5 s in the workers' trees; 2 workers whose trees used 2 x 4 s more
    total = 3 + 2 * 4 + 10 * 6
    trees = 10 * 5.5 + 2 * 4
    per_run, per_worker = bench.fixed_costs(total, 10, 6.0, 2, trees=trees, trees_steady=5.5)
    assert per_worker == pytest.approx(4.0)
    assert per_run == pytest.approx(3.0)
    assert per_run + 2 * per_worker + 10 * 6.0 == pytest.approx(total)


def test_fixed_costs_without_workers_or_trees():
    assert bench.fixed_costs(100.0, 4, 20.0, 0) == (pytest.approx(20.0), 0.0)          # plain nbgrader
    assert bench.fixed_costs(100.0, 4, 20.0, 2) == (pytest.approx(20.0), None)         # trees not measured
    assert bench.fixed_costs(100.0, 1, None, 2) == (None, None)


def test_phases_from_a_result_with_phases():
    result = {"timings": {"Stage": 0.1, "ScanForTampering": 0.2, "StartVerification": 0.05, "Autograde": 5.0,
                          "Incidents": 0.1, "Reconcile": 0.3, "Feedback": 0.4, "Publish": 0.1},
              "phases": {"a": {"kernel_start": 0.1, "import_cells": 0.5, "cells": 2.0, "shutdown": 0.05},
                         "b": {"kernel_start": 0.2, "import_cells": 0.25, "cells": 1.0, "shutdown": 0.05}}}
    phases = bench.phases_of(result, {"a": {"import_cells": 9, "cells": 9}})    # the result's phases win
    assert phases["kernel start"] == pytest.approx(0.3)
    assert phases["imports"] == pytest.approx(0.75)
    assert phases["own cells"] == pytest.approx(2.25)
    assert phases["shutdown"] == pytest.approx(0.1)
    assert phases["autograde"] == 5.0
    assert phases["verification"] == pytest.approx(0.35)
    assert phases["feedback"] == 0.4
    assert phases["other steps"] == pytest.approx(0.5)
    assert phases["total"] == pytest.approx(6.25)


def test_phases_without_phases_take_cells_from_the_notebooks_and_say_nothing_else():
    result = {"timings": {"Autograde": 5.0, "Reconcile": 0.0, "Feedback": 0.4}}
    phases = bench.phases_of(result, {"a": {"import_cells": 0.5, "cells": 2.0},
                                      "b": {"import_cells": 0.0, "cells": 1.0}})
    assert phases["kernel start"] is None and phases["shutdown"] is None
    assert phases["imports"] == pytest.approx(0.5) and phases["own cells"] == pytest.approx(2.5)
    assert bench.phases_of(result)["imports"] is None          # no notebooks either: n/a
    assert bench.phases_of(result, {"a": None})["own cells"] is None


def test_phase_means_skip_what_is_missing():
    means = bench.phase_means([{"timings": {"Feedback": 1.0}}, {"timings": {"Feedback": 3.0}}, {}])
    assert means["feedback"] == pytest.approx(2.0)
    assert means["kernel start"] is None


def code(source, began="2026-11-30T08:00:00.000000Z", ended="2026-11-30T08:00:01.500000Z"):
    return {"cell_type": "code", "source": source,
            "metadata": {"execution": {"iopub.execute_input": began, "shell.execute_reply": ended}}}


def test_executed_cells_from_nbclients_timestamps():
    notebook = {"cells": [code(["import numpy as np\n", "from x import y\n"]),
                          {"cell_type": "markdown", "source": "text", "metadata": {}},
                          code("import matplotlib", ended="2026-11-30T08:00:00.250000Z"),
                          code("import numpy as np\ndata = np.ones(3)"),
                          {"cell_type": "code", "source": "never ran", "metadata": {}}]}
    found = bench.executed_cells(notebook)
    assert found["import_cells"] == pytest.approx(1.75)
    assert found["cells"] == pytest.approx(3.25)


@pytest.mark.parametrize("source, expected", [
    ("import numpy as np", True), ("from a import b\nimport c", True),
    ("", False), ("import a\nx = 1", False), ("def f(:", False), ("# only a comment", False)])
def test_only_imports(source, expected):
    assert bench.only_imports(source) is expected


def test_table_aligns_columns():
    text = bench.format_table(["run", "wall s", "x"], [["plain", "12.5", "1.00x"], ["pipeline, fast", "3.1", "4.03x"]])
    lines = text.splitlines()
    assert lines == ["run             wall s      x",
                     "plain             12.5  1.00x",
                     "pipeline, fast     3.1  4.03x"]


@pytest.mark.parametrize("value, spec, suffix, expected", [
    (1.234, ".2f", "", "1.23"), (None, ".2f", "", "n/a"), (float("nan"), ".1f", "", "n/a"), (4.0, ".2f", "x", "4.00x")])
def test_cell(value, spec, suffix, expected):
    assert bench.cell(value, spec, suffix) == expected


def test_role_of_each_process_from_its_place_in_the_tree():
    S = bench.ProcStat
    stats = {1: S(0, 0, 0),                         # main
             2: S(1, 0, 0),                         # resource tracker
             10: S(1, 0, 0),                        # a worker
             11: S(10, 0, 0), 12: S(11, 0, 0),      # its verification helper and a sandbox of it
             13: S(10, 0, 0),                       # its kernel template
             14: S(10, 0, 0), 15: S(14, 0, 0),      # bwrap and the box's init
             16: S(7, 0, 0)}                        # a kernel forked by the template, adopted by the machine's init
    namespaces = {pid: "pid:[1]" for pid in stats} | {15: "pid:[9]", 16: "pid:[9]"}
    owner = bench.owners(stats, {10}, namespaces, host="pid:[1]")
    assert owner[16] == 10                          # through the box's PID namespace
    lines = {11: "python -B -c from multiprocessing.spawn import spawn_main; spawn_main(...)",
             12: "bwrap --unshare-all ... python", 13: "python kernel_template.py 21",
             14: "bwrap --unshare-all", 15: "bwrap --unshare-all", 16: "python kernel_template.py 21",
             2: "python -B -c from multiprocessing.resource_tracker import main"}
    kinds = {pid: bench.role(pid, stats, 1, owner, lambda p: lines.get(p, "")) for pid in stats}
    assert kinds == {1: "main", 2: "other", 10: "workers", 11: "verification", 12: "verification",
                     13: "templates", 14: "kernels", 15: "kernels", 16: "kernels"}


def test_the_host_namespace_adopts_nobody():
    S = bench.ProcStat
    stats = {10: S(1, 0, 0), 20: S(1, 0, 0)}
    assert bench.owners(stats, {10}, {10: "pid:[1]", 20: "pid:[1]"}, host="pid:[1]")[20] is None


def test_role_in_plain_nbgrader_where_main_is_the_worker():
    S = bench.ProcStat
    stats = {1: S(0, 0, 0), 5: S(1, 0, 0)}
    owner = bench.owners(stats, {1})
    assert bench.role(1, stats, 1, owner, lambda p: "") == "main"
    assert bench.role(5, stats, 1, owner, lambda p: "python -m ipykernel_launcher") == "kernels"


def test_roles_in_window_per_student():
    ticks = [(0.0, dict.fromkeys(bench.ROLES, 0.0)),
             (10.0, {**dict.fromkeys(bench.ROLES, 0.0), "kernels": 20.0, "workers": 4.0}),
             (20.0, {**dict.fromkeys(bench.ROLES, 0.0), "kernels": 40.0, "workers": 8.0})]
    per_student = bench.roles_in_window(ticks, 5.0, 15.0, students=2)
    assert per_student["kernels"] == pytest.approx(10.0) and per_student["workers"] == pytest.approx(2.0)
    assert per_student["main"] == 0.0
    assert bench.roles_in_window(ticks, 5.0, 15.0, students=0) == {}


def test_against_an_earlier_run():
    now = bench.Row("fast", "pipeline, fast path", 200, wall=100.0, cpu=2000.0)
    now.split = bench.Split(9.5, 1.0, 1.0, (2, 199))
    earlier = {"machine": {"date": "then", "commit": "abc"},
               "rows": [{"key": "fast", "count": 40, "cpu": 420.0, "split": {"steady": 10.0}},
                        {"key": "plain", "count": 40, "cpu": 800.0, "split": {"steady": 19.0}}]}
    text = bench.against([now], earlier)
    assert "steady CPU s/sub 9.50 at 200 students, 10.00 at 40: -5.0%" in text
    assert "whole command 10.00 at 200 students, 10.50 at 40: -4.8%" in text
    assert "plain" not in text


def test_submissions_come_from_students_who_handed_in_the_assignment(tmp_path):
    examples = tmp_path / "examples"
    for student, assignments in {"s01_correct": ["a1", "a2"], "s02_partial": ["a2"], "s03_other": ["a1"],
                                 "s04_runaway_cell": ["a2"]}.items():
        for assignment in assignments:
            (examples / student / assignment).mkdir(parents=True)
            (examples / student / assignment / "nb.ipynb").write_text("{}")
    assert [p.name for p in bench.example_sources(examples, "a2")] == ["s01_correct", "s02_partial"]
    students = bench.make_submissions(tmp_path / "out", 3, examples, "a2")
    assert students == ["bench_01", "bench_02", "bench_03"]
    assert sorted(p.name for p in (tmp_path / "out" / "bench_03").iterdir()) == ["a2"]     # s01 again, a2 only
    assert (tmp_path / "out" / "bench_02" / "a2" / "nb.ipynb").is_file()


def test_every_bundled_source_has_the_benchmarks_assignment():
    sources = bench.example_sources()
    assert len(sources) >= 8
    assert all((p / bench.ASSIGNMENT).is_dir() for p in sources)


def test_plain_nbgrader_skips_what_the_pipeline_skips_through_nbclients_tag(tmp_path):
    """The plain-skip row's submissions carry skip-execution on exactly the cells the course tags
    skip-when-grading (as a release with that tag would give them), and on nothing else."""
    import shutil
    import nbformat
    from autograder.grading.autograde import skipped_sources
    source = bench.COURSE_ROOT / "source" / bench.ASSIGNMENT
    student = tmp_path / "s01" / bench.ASSIGNMENT
    shutil.copytree(bench.COURSE_ROOT / "examples" / "submissions" / "s01_correct_style" / bench.ASSIGNMENT, student)
    bench.tag_skipped_cells(tmp_path, source)
    for stem, sources in skipped_sources(source).items():
        cells = nbformat.read(str(student / f"{stem}.ipynb"), as_version=4).cells
        tagged = [c.source for c in cells if "skip-execution" in c.metadata.get("tags", [])]
        assert tagged == sources
    assert any(skipped_sources(source).values())
