"""The labs (`make lab`/`make student`, `make instructor`) and a self-contained release, without a browser.

Also the helpers the browser tests (tests/test_browser_*.py) share: a scratch copy of the
course, a Jupyter environment of its own, and Chromium driven by Playwright.
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from autograder import lab
from autograder.release import COURSE_ROOT, KIT, kit_differences, kit_files, sync_source_kit

ASSIGNMENT = "ch02_fundamentals"
ASSIGNMENTS = sorted(p.name for p in (COURSE_ROOT / "source").iterdir() if p.is_dir())
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
BIN = os.path.dirname(sys.executable)


# --- helpers, shared with the browser tests -----------------------------------------------------

def copy_course(dest: Path) -> Path:
    """The course as a fresh checkout has it (links in source/ kept as links), in `dest`.

    A lab on it may regenerate the release, grade and write a gradebook without touching the
    repository.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(COURSE_ROOT / "nbgrader_config.py", dest)
    for folder in ("source", "notebooks"):
        shutil.copytree(COURSE_ROOT / folder, dest / folder, symlinks=True, ignore=CACHES)
    # What a link in source/ may point at, so that it resolves as in the repository.
    shutil.copytree(KIT, dest / "autograder" / "coursekit", ignore=CACHES)
    return dest


def jupyter_env(base: Path) -> dict:
    """Jupyter's per-user folders in `base`: no settings of the machine's user, nothing written to them."""
    env = {}
    for variable, name in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                           ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        (base / name).mkdir(parents=True, exist_ok=True)
        env[variable] = str(base / name)
    # JupyterLab would ask, in a toast over the notebook, whether to fetch Jupyter's news: no.
    settings = base / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    return env


def family(process) -> list:
    """The server's process and all it started (kernels, nbgrader's runs), as psutil processes."""
    with contextlib.suppress(psutil.NoSuchProcess):
        server = psutil.Process(process.pid)
        return [server] + server.children(recursive=True)
    return []


def still_running(processes) -> list:
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
    return alive


def tracebacks(log_text: str) -> list[str]:
    return [block for block in re.split(r"\n(?=\[[A-Z] )", log_text) if "Traceback" in block]


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# nbgrader's manual-grading page loads MathJax 2 from cdnjs (its template hard-codes the URL). The
# test machine has no internet, so the browser tests answer that one URL themselves.
MATHJAX_CDN = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/**"
MATHJAX_STAND_IN = ("window.MathJax = {Hub: {Config() {}, Queue() {}, Typeset() {}, "
                    "Startup: {signal: {Interest() {}}}}};")


def chromium_or_skip():
    """(sync_playwright, expect) from Playwright, with Debian's Chromium there, or skip saying what is missing."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("browser test skipped: playwright is not installed (pip install -r requirements.txt "
                    "-c requirements.lock)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser test skipped: no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    return sync_playwright, expect


class Browser:
    """One Chromium page; records console errors and uncaught page errors, in every frame."""

    def __init__(self, playwright, shots: Path):
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport={"width": 1280, "height": 960})
        self.page.set_default_timeout(30_000)
        self.errors = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"console error: {message.text} ({message.location.get('url', '')})"))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.route(MATHJAX_CDN, lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=MATHJAX_STAND_IN))
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self.steps = []

    def step(self, name: str):
        self.steps.append((name, time.monotonic() - self.started))

    def shot(self, name: str):
        """Screenshot to SHOTS/lab-NAME.png; with UPDATE_SCREENSHOTS=1 also to docs/img/ for the README."""
        path = self.shots / f"lab-{name}.png"
        self.page.screenshot(path=str(path))
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(path, COURSE_ROOT / "docs" / "img" / path.name)

    def close(self):
        self.browser.close()


def scroll_to_top(locator):
    locator.evaluate("element => element.scrollIntoView({block: 'start'})")


def open_menu_item(page, menu: str, item: str):
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu:visible .lm-Menu-item", has_text=re.compile(rf"^{re.escape(item)}")).first.click()


def readme_menu_paths(section: str) -> list[tuple[str, str]]:
    """The `**Menu › Item**` paths that README.md's section `## <section>` tells its reader to use."""
    text = (COURSE_ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [(menu, " ".join(item.split())) for menu, item in re.findall(r"\*\*(\w+) › ([^*]+)\*\*", body)]


def menu_labels(page, menu: str) -> list[str]:
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    labels = page.locator(".lm-Menu:visible .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return labels


# --- a release that runs, however it is made ------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_kit_is_a_real_copy_of_the_package_kit(assignment):
    kit = COURSE_ROOT / "source" / assignment / "coursekit"
    assert not kit.is_symlink(), (
        f"source/{assignment}/coursekit is a symlink, which nbgrader's generate_assignment, the formgrader's "
        f"Generate and autograde drop: run `make release` (it makes it a real copy of autograder/coursekit)")
    assert kit.is_dir(), f"source/{assignment}/coursekit is missing: run `make release`"
    assert not kit_differences(kit), f"source/{assignment}/coursekit differs from autograder/coursekit: " \
                                     f"run `make release` ({kit_differences(kit)})"


def test_nbgraders_own_generate_assignment_ships_a_release_that_runs(tmp_path):
    course = copy_course(tmp_path / "course")
    shutil.rmtree(course / "notebooks" / ASSIGNMENT)
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    done = subprocess.run([os.path.join(BIN, "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"],
                          cwd=course, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    release = course / "notebooks" / ASSIGNMENT
    assert (release / "coursekit").is_dir() and not (release / "coursekit").is_symlink(), \
        "nbgrader's generate_assignment released no coursekit/"
    assert kit_files(release / "coursekit") == kit_files(KIT)
    imports = subprocess.run([sys.executable, "-c",
                              "import coursekit.checks, coursekit.data; print(coursekit.data.load_boston()[0].shape)"],
                             cwd=release, capture_output=True, text=True)
    assert imports.returncode == 0 and "(506, 13)" in imports.stdout, imports.stderr


def test_make_release_replaces_a_kit_link_and_keeps_an_edit_of_the_copy(tmp_path):
    source = tmp_path / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    (source / "coursekit").symlink_to(KIT)
    assert sync_source_kit(ASSIGNMENT, root=tmp_path)
    kit = source / "coursekit"
    assert kit.is_dir() and not kit.is_symlink() and not kit_differences(kit)
    assert sync_source_kit(ASSIGNMENT, root=tmp_path) == []

    edited = kit / "checks.py"
    edited.write_text(edited.read_text() + "\n# an instructor's edit\n")
    later = (KIT / "checks.py").stat().st_mtime + 60
    os.utime(edited, (later, later))
    with pytest.raises(RuntimeError, match="checks.py"):
        sync_source_kit(ASSIGNMENT, root=tmp_path)
    assert "an instructor's edit" in edited.read_text()

    earlier = (KIT / "checks.py").stat().st_mtime - 60
    os.utime(edited, (earlier, earlier))            # the package's kit changed since: the copy follows
    assert sync_source_kit(ASSIGNMENT, root=tmp_path)
    assert not kit_differences(kit)


# --- the student's workspace --------------------------------------------------------------------

def course_with_release(tmp_path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(COURSE_ROOT / "notebooks" / ASSIGNMENT, course / "notebooks" / ASSIGNMENT, ignore=CACHES)
    return course


def test_workspace_is_created_on_first_use_as_a_copy_of_each_release(tmp_path):
    course = course_with_release(tmp_path)
    workspace = tmp_path / "workspace"
    said = lab.prepare_workspace(course, workspace)
    assert len(said) == 1 and "created" in said[0]
    copy, release = workspace / ASSIGNMENT, course / "notebooks" / ASSIGNMENT
    assert kit_files(copy) == kit_files(release)
    assert (copy / "coursekit" / "checks.py").read_bytes() == (release / "coursekit" / "checks.py").read_bytes()
    assert lab.prepare_workspace(course, workspace) == []


def test_workspace_is_never_overwritten_and_a_new_release_is_offered_beside_it(tmp_path):
    course = course_with_release(tmp_path)
    workspace = tmp_path / "workspace"
    lab.prepare_workspace(course, workspace)
    work = workspace / ASSIGNMENT / "01_linear_regression.ipynb"
    work.write_text(work.read_text().replace('raise NotImplementedError("write this function, then run the next cell")', "return 42  # my answer", 1))
    mine = work.read_text()

    # The instructor regenerates the release (make release, the formgrader's Generate...).
    released = course / "notebooks" / ASSIGNMENT / "01_linear_regression.ipynb"
    released.write_text(released.read_text().replace("Chapter 2, part 1", "Chapter 2, part 1 (revised)", 1))
    said = lab.prepare_workspace(course, workspace)
    assert work.read_text() == mine
    beside = [p for p in workspace.iterdir() if p.name.startswith(f"{ASSIGNMENT}{lab.NEW_RELEASE}")]
    assert len(beside) == 1 and "(revised)" in (beside[0] / "01_linear_regression.ipynb").read_text()
    assert any("untouched" in line and str(beside[0]) in line for line in said)

    # Next start: nothing new is copied, the student is reminded; their work is still theirs.
    again = lab.prepare_workspace(course, workspace)
    assert [line for line in again if line.startswith("reminder")]
    assert len([p for p in workspace.iterdir() if lab.NEW_RELEASE in p.name]) == 1
    assert work.read_text() == mine

    # Once they have moved over (old copy deleted, new one renamed), no more offers or reminders.
    shutil.rmtree(workspace / ASSIGNMENT)
    beside[0].rename(workspace / ASSIGNMENT)
    assert lab.prepare_workspace(course, workspace) == []


def test_a_deleted_copy_is_made_again(tmp_path):
    course = course_with_release(tmp_path)
    workspace = tmp_path / "workspace"
    lab.prepare_workspace(course, workspace)
    shutil.rmtree(workspace / ASSIGNMENT)
    assert "created" in lab.prepare_workspace(course, workspace)[0]
    assert (workspace / ASSIGNMENT / "coursekit").is_dir()


# --- the servers' command lines -------------------------------------------------------------------

def test_student_lab_serves_the_workspace_with_the_courses_nbgrader_settings(tmp_path):
    course = copy_course(tmp_path / "course")
    workspace = course / "workspace"
    workspace.mkdir()
    argv, env, cwd = lab.server_command("student", course, workspace, "0.0.0.0", 9123, "secret")
    assert Path(cwd) == workspace and f"--ServerApp.root_dir={workspace}" in argv
    assert {"--ServerApp.ip=0.0.0.0", "--ServerApp.port=9123", "--IdentityProvider.token=secret",
            "--ServerApp.port_retries=0"} <= set(argv)
    assert ("--allow-root" in argv) == (os.geteuid() == 0)
    for extension in lab.INSTRUCTOR_SERVER_EXTENSIONS:
        assert f"--ServerApp.jpserver_extensions={extension}=False" in argv
    config = Path(env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0])
    assert str(course / "nbgrader_config.py") in (config / "nbgrader_config.py").read_text()
    disabled = json.loads((config / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert set(disabled) == set(lab.INSTRUCTOR_PLUGINS)


def test_instructor_lab_serves_the_course_root(tmp_path):
    course = copy_course(tmp_path / "course")
    argv, env, cwd = lab.server_command("instructor", course, course / "workspace", "127.0.0.1", 8888, "t")
    assert Path(cwd) == course and f"--ServerApp.root_dir={course}" in argv
    assert not [a for a in argv if "jpserver_extensions" in a]


def test_make_lab_takes_a_port_and_an_address():
    for target, role in (("lab", "student"), ("student", "student"), ("instructor", "instructor")):
        done = subprocess.run(["make", "-n", target, "PORT=9123", "IP=0.0.0.0"], cwd=COURSE_ROOT,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f"-m autograder.lab {role} --port 9123 --ip 0.0.0.0" in done.stdout


def test_lab_refuses_a_port_in_use(tmp_path, capsys):
    course = copy_course(tmp_path / "course")
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit):
            lab.main(["student", "--course", str(course), "--port", str(taken.getsockname()[1])])
    assert "is in use" in capsys.readouterr().err


def test_lab_url_says_where_to_go():
    assert lab.lab_url("127.0.0.1", 8888, "abc") == "http://127.0.0.1:8888/lab?token=abc"
    assert lab.lab_url("0.0.0.0", 9000, "abc") == "http://127.0.0.1:9000/lab?token=abc"


def test_workspace_and_exchange_are_git_ignored():
    if not (COURSE_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("workspace/ch02_fundamentals/01_linear_regression.ipynb", "exchange/dlfs/outbound/x"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=COURSE_ROOT)
        assert done.returncode == 0, f"{path} is not git-ignored"


# --- both labs start cleanly, answer nbgrader's panels, and stop with every process ---------------

def get_json(running_lab, path):
    with urllib.request.urlopen(running_lab.address(path), timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_lab_starts_clean_and_stops_everything(tmp_path, role):
    course = copy_course(tmp_path / "course")
    with lab.running(role, course, log=tmp_path / "server.log", env=jupyter_env(tmp_path)) as running_lab:
        exchange = course / "exchange"
        assert exchange.is_dir(), "the exchange folder was not created"
        with urllib.request.urlopen(running_lab.address("lab"), timeout=30) as response:
            assert response.status == 200
        courses = get_json(running_lab, "courses")
        assert courses["success"], courses
        listed = get_json(running_lab, "assignments?course_id=dlfs")
        assert listed["success"], listed
        if role == "instructor":
            formgraders = get_json(running_lab, "formgraders")
            assert formgraders["success"] and [c["course_id"] for c in formgraders["value"]] == ["dlfs"]
            assert sorted(a["name"] for a in get_json(running_lab, "formgrader/api/assignments")) == sorted(
                p.name for p in (course / "source").iterdir() if p.is_dir())
        else:
            assert (course / "workspace" / ASSIGNMENT / "coursekit").is_dir()
            with pytest.raises(urllib.error.HTTPError):
                get_json(running_lab, "formgrader/api/assignments")     # no formgrader for students
        processes = family(running_lab.process)
    assert len(processes) >= 1 and not still_running(processes)
    log = running_lab.log_text()
    assert not tracebacks(log), "\n".join(tracebacks(log))
    assert "No nbgrader_config.py file found" not in log
