"""Dask workers keep the memory torch frees, instead of handing every tensor back to the kernel.

Why: Dask's nanny starts each worker with MALLOC_TRIM_THRESHOLD_=65536 (distributed.yaml, to return memory to the
OS). Setting it at all freezes glibc's mmap threshold at 128 KiB, so every activation tensor is a fresh mmap,
zeroed page by page by the kernel, and unmapped when freed. Measured with the scale benchmark's expert (16
frames, one core): 1.0 s of system time and 600,000 page faults against 0.01 s and 4,000 once the thresholds are
raised, and the zeroing is memory traffic that two workers on one machine fight over. A worker that holds models
keeps its memory anyway. `mallopt` at run time overrides the environment; glibc only (a no-op elsewhere).
"""

from __future__ import annotations

import ctypes
import ctypes.util

from distributed.diagnostics.plugin import WorkerPlugin

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest: blocks below it come from the heap and are reused
TRIM_THRESHOLD = 256 * 2**20  # free memory kept at the heap's top before it is given back


def keep_freed_memory() -> bool:
    """Raise this process's malloc thresholds; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


class KeepFreedMemory(WorkerPlugin):
    """Registered by the perceive fan-out: every worker of the cluster, present and future, keeps freed memory."""

    name = "r4d-keep-freed-memory"

    def setup(self, worker) -> None:
        keep_freed_memory()
