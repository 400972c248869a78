# Tries to fill the machine from the kernel past its --kernel-disk limit (256 MiB per tmpfs): 384 MiB in 32 MiB files into its socket folder (on the host's disk: sealed, read-only and another owner's, once the kernel has its sockets) and into the box's root (read-only: --remount-ro /); stopped.
# %%
import errno
import json
import os


def fill(folder, total=384 << 20, file_size=32 << 20):
    block, written, names = b"\0" * (1 << 20), 0, []
    try:
        while written < total:
            names.append(os.path.join(folder, f"fill-{len(names)}"))
            with open(names[-1], "wb") as handle:
                for _ in range(file_size >> 20):
                    handle.write(block)
                    written += len(block)
        return [written >> 20, "no error"]
    except OSError as exc:
        return [written >> 20, errno.errorcode.get(exc.errno, str(exc.errno))]
    finally:
        for name in names:
            try:
                os.unlink(name)
            except OSError:
                pass


host = {}
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    point, options, kind = fields[4], fields[5], line.split(" - ")[1].split()[0]
    if options.startswith("rw") and kind not in ("tmpfs", "proc", "devtmpfs", "devpts", "mqueue"):
        host[point] = fill(point)


def root_fill():
    try:
        os.makedirs("/fill", exist_ok=True)
    except OSError as exc:
        return [0, errno.errorcode.get(exc.errno, str(exc.errno))]
    return fill("/fill")


print("REPORT", json.dumps({"info:host folders written (MiB)": host, "info:box root written (MiB)": root_fill()}))
print("ATTACK-DONE")
