# Tries to fill the disk and memory from the outside verification's box: 384 MiB in 32 MiB files into its work/ folder, /tmp and / (more than the 256 MiB a kernel may write); stopped: work/ and /tmp are tmpfs with --size, / is read-only.
# where: solution
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


def root_fill():
    try:
        os.makedirs("/fill", exist_ok=True)
    except OSError as exc:
        return [0, errno.errorcode.get(exc.errno, str(exc.errno))]
    return fill("/fill")


REPORT = {"info:fill cwd": fill("."), "info:fill /tmp": fill("/tmp"), "info:fill /": root_fill()}


def mae(preds, actuals):   # wrong: the report travels back in the verification's message
    raise RuntimeError("REPORT " + json.dumps(REPORT))


print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
