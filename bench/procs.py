"""What a server process tree costs, read from /proc: CPU time, RSS, PSS, and their peaks.

A server is measured as its whole tree (``mlflow server`` forks uvicorn workers), found by
walking parent links from the process the benchmark started.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(root: int) -> list[int]:
    """``root`` and all its descendants that are alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ')'.
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid == root and not os.path.exists(f"/proc/{pid}"):
            continue
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # Fields after the name: state=0, ..., utime=11, stime=12, cutime=13, cstime=14.
        total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / _TICKS


def rss_bytes(pids: list[int]) -> int:
    """Sum of resident set sizes (counts shared pages once per process)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
        except OSError:
            continue
    return total


def pss_bytes(pids: list[int]) -> int:
    """Sum of proportional set sizes: shared pages split between the processes sharing them."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


@dataclass
class Memory:
    rss: int
    pss: int
    processes: int


def memory(root: int) -> Memory:
    pids = tree(root)
    return Memory(rss_bytes(pids), pss_bytes(pids), len(pids))


class PeakSampler:
    """Polls a tree's memory in a background thread and keeps the peaks.

    RSS is cheap to read and polled often; PSS walks page tables, so it is polled less.
    ``mark()`` starts a window whose own peak ``window_peak()`` returns (e.g. one upload).
    """

    def __init__(self, root: int, interval: float = 0.1, pss_every: int = 10) -> None:
        self.root = root
        self.interval = interval
        self.pss_every = pss_every
        self.peak_rss = 0
        self.peak_pss = 0
        self._window_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peak-sampler", daemon=True)

    def start(self) -> PeakSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def mark(self) -> None:
        self._window_rss = rss_bytes(tree(self.root))

    def window_peak(self) -> int:
        return max(self._window_rss, rss_bytes(tree(self.root)))

    def _loop(self) -> None:
        n = 0
        pids = tree(self.root)
        while not self._stop.wait(self.interval):
            if n % 20 == 0:
                pids = tree(self.root)  # workers may come and go; re-walk now and then
            rss = rss_bytes(pids)
            self.peak_rss = max(self.peak_rss, rss)
            self._window_rss = max(self._window_rss, rss)
            if n % self.pss_every == 0:
                self.peak_pss = max(self.peak_pss, pss_bytes(pids))
            n += 1


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (from /proc/stat)."""
    with open("/proc/stat", "rb") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS


class CpuMeter:
    """Server-tree, own-process and everyone else's CPU between ``start()`` and ``stop()``.

    "Others" matters on a shared machine: when other jobs take the cores, a server's
    throughput drops for reasons that are not its own.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self._pids: list[int] = []
        self._server0 = self._self0 = self._wall0 = self._all0 = 0.0
        self.server = self.client = self.wall = self.others = 0.0

    def start(self) -> None:
        self._pids = tree(self.root)
        self._server0 = cpu_seconds(self._pids)
        # The generator's own thread only: the memory sampler's thread is not its cost.
        self._self0 = time.thread_time()
        self._all0 = machine_busy_seconds()
        self._wall0 = time.perf_counter()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.client = time.thread_time() - self._self0
        self.server = cpu_seconds(self._pids) - self._server0
        everyone = machine_busy_seconds() - self._all0
        self.others = max(0.0, everyone - self.server - self.client)
