# Writes a file into its socket folder, then outlasts the student timeout with cells that each run to the cell timeout, so that its worker is killed mid-notebook; the worker is killed with everything it started, and the run removes its scratch folder (sockets included) even so.
# outcome: stopped
# %%
import os

for line in open("/proc/self/mountinfo"):
    fields = line.split()
    point, options, kind = fields[4], fields[5], line.split(" - ")[1].split()[0]
    if options.startswith("rw") and kind not in ("tmpfs", "proc", "devtmpfs", "devpts", "mqueue"):
        try:
            with open(os.path.join(point, "pwned-__TOKEN__"), "w") as handle:
                handle.write("left behind\n")
            print("wrote into", point)
        except OSError as exc:
            print("could not write into", point, exc)
# %%
import time
while True:
    time.sleep(1)
# %%
while True:
    time.sleep(1)
# %%
while True:
    time.sleep(1)
# %%
while True:
    time.sleep(1)
# %%
while True:
    time.sleep(1)
# %%
while True:
    time.sleep(1)
