"""Keeping the threads of one thread informer on one CPU.

Under the interpreter lock only one of an informer's threads (reflector, processing, one per
handler) runs Python at a time, and each wake-up hands the lock to a thread the kernel has
usually placed on another, idle CPU. Every decoded object then travels between the CPUs'
caches: it is made on one, cached and queued on another, and freed where the last
notification dropped it. Measured with ``python -m bench informer`` on two CPUs, this costs the
informer about a third of its throughput: with its threads on one CPU the informer ran at
0.71-0.82 of the bare decode loop instead of 0.56 (0.80-0.93 instead of 0.65 with
``drop_managed_fields``), and at 0.84 as the median of the per-rep paired ratios
(``bench/RESULTS.md``).

A :class:`CPUPin` names that CPU: the one the thread that starts the informer runs on, so that
informers started by different processes spread as their starters do. Pinning is skipped where
it cannot help or is not possible: a single allowed CPU, no ``sched_setaffinity`` (not Linux),
or an interpreter without the lock (free-threaded builds run the threads in parallel). Threads
started by the user, handlers' own worker threads included, are never pinned.

Thread-safety: a :class:`CPUPin` is immutable; :meth:`CPUPin.apply` affects only the calling
thread.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

__all__ = ["NO_PIN", "CPUPin"]

log = logging.getLogger("kgen.cache")

_PROCESSOR_FIELD = 36
"""Index of ``processor`` (the CPU the thread last ran on) among the fields of
``/proc/thread-self/stat`` that follow the command name (proc(5), field 39)."""


def _gil_enabled() -> bool:
    is_enabled: Callable[[], bool] | None = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else is_enabled()


def current_cpu() -> int | None:
    """The CPU the calling thread runs on, or ``None`` where that cannot be read."""
    try:
        with open("/proc/thread-self/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
        return int(fields[_PROCESSOR_FIELD])
    except (OSError, IndexError, ValueError):
        return None


class CPUPin:
    """The CPU an informer's threads are kept on (``cpu=None``: none, threads move freely)."""

    __slots__ = ("cpu",)

    def __init__(self, cpu: int | None) -> None:
        self.cpu = cpu

    @classmethod
    def here(cls) -> CPUPin:
        """The calling thread's CPU, when pinning to it can help (see the module docstring);
        otherwise :data:`NO_PIN`."""
        if not hasattr(os, "sched_setaffinity") or not _gil_enabled():
            return NO_PIN
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return NO_PIN
        cpu = current_cpu()
        return cls(cpu if cpu in allowed else min(allowed))

    def apply(self) -> None:
        """Keep the calling thread on this CPU from now on. Never raises: where the kernel
        refuses (the CPU was taken out of the allowed set meanwhile), the thread stays free."""
        if self.cpu is None:
            return
        try:
            os.sched_setaffinity(0, {self.cpu})
        except OSError as exc:
            log.debug("could not keep thread on CPU %d: %s", self.cpu, exc)

    def run(self, target: Callable[[], object]) -> None:
        """A thread's body: :meth:`apply`, then ``target()``."""
        self.apply()
        target()

    def __repr__(self) -> str:
        return f"CPUPin({self.cpu!r})"


NO_PIN = CPUPin(None)
"""Pins nothing."""
