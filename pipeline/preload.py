"""Imported once by the process that local Dask workers are forked from (multiprocessing's
forkserver): the extraction models (pattern files, jieba's dictionary, the division table) and
Prefect's task engine are loaded there, and every worker forked from it shares those pages instead
of loading its own copy (about 180 MB a worker).
"""
import gc

import prefect.task_engine  # noqa: F401  (what runs each task in the worker)
import pyarrow  # noqa: F401  (how a chunk's rows travel back)

from pipeline.batch import warm

warm()
# Keep the collector away from the shared objects: a collection writes to every object it
# visits, which would copy the shared pages into each worker one by one.
gc.freeze()
