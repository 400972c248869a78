"""What a local grading worker imports, imported once per run in the fork server its workers are forked
from (executor.spawn_process): the workers then share these pages instead of each holding a copy.

The grading modules, and what they import only once grading has begun (found by listing a worker's
modules after a student). Frozen at the end, so that no worker's garbage collector writes to (and so
copies) the pages of these objects. Nothing of a run is here: no config, no student; only modules."""
import gc
import importlib

from . import pipeline, verification  # noqa: F401

LATER = ("autograder.verify", "ipykernel.kernelspec", "IPython.lib.lexers", "pygments.lexers.python",
         "pygments.styles.default", "sqlalchemy.dialects.sqlite", "psutil", "numpy.random",
         "multiprocessing.popen_spawn_posix", "multiprocessing.synchronize", "concurrent.futures.process")
for name in LATER:
    importlib.import_module(name)

gc.collect()
gc.freeze()
