# Reports what the kernel can see (its uid, /, the repository, OUT, $HOME, /tmp/verify-*, other students' folders, the processes, its environment) so the test can check the box from the inside; nothing to stop: it only looks.
# student: probe
# %%
import glob
import json
import os


def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return type(exc).__name__


SEE = {"uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(), "cwd": os.getcwd(),
       "pythonpath": os.environ.get("PYTHONPATH", ""), "environ": dict(os.environ),
       "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
       "listings": {path: listing(path) for path in ["/", "/root", "/work", "__REPO__", "__HOME__", "__OUT__",
                                                     "__OUT__/.work", "/tmp", "__COURSE__", "__SUBMISSIONS__"]},
       "exists": {path: os.path.exists(path) for path in [
           "__REPO__/autograder", "__REPO__/autograder/assignments/ch02_fundamentals/reference", "__REPO__/nbgrader_config.py", "__REPO__/source",
           "__REPO__/solutions", "__OUT__/grades.csv", "__OUT__/results", "__OUT__/nbgrader", "__OUT__/feedback",
           "__OUT__/.work/template.db", "__COURSE__", "__SUBMISSIONS__", "__SUBMISSIONS__/__VICTIM__",
           "__HOME__/.ssh", "__HOME__/.jupyter", "/etc/passwd", "/etc/hostname"]},
       "verify": glob.glob("/tmp/verify-*"),
       "students autograded": sorted(os.path.basename(p) for p in glob.glob("__OUT__/.work/worker-*/autograded/*")),
       "students submitted": sorted(os.path.basename(p) for p in glob.glob("__OUT__/.work/worker-*/submitted/*")),
       "grading folders": sorted(os.path.basename(p) for p in glob.glob("__OUT__/.work/worker-*/kernel/*")),
       "socket folders": sorted(glob.glob("/tmp/autograder-run-*/w*/*/k*")),
       "mounts": [line.split()[4] for line in open("/proc/self/mountinfo")]}
print("SEES", json.dumps(SEE))
print("ATTACK-DONE")
