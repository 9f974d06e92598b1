"""环保咨询助手 — consultation assistant of the Zhoushan Ecology & Environment Bureau."""

import os as _os

# One BLAS thread: the e5 engine keeps its OpenMP threads busy on both cores, and a multi-threaded BLAS
# mat-vec competing with them made p95 latency 7x worse (measured: p95 116 ms → 16 ms, scripts/bench_retrieval.py).
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
_os.environ.setdefault("MKL_NUM_THREADS", "1")

__version__ = "0.1.0"
