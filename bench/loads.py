"""Closed-loop load: N keep-alive clients, each sending its next request when the last returns.

Bounded twice, by a request count and by a duration, so a slow server ends the phase on time
and a fast one does not run forever. Reports throughput, latency percentiles, and the CPU
that the server tree and the generator itself spent per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.httpclient import Connection, open_pool
from bench.procs import CpuMeter

# (method, path, body, extra header bytes)
Request = tuple[str, str, bytes | None, bytes]
MakeRequest = Callable[[int, int], Request]  # (client index, its request number) -> request


@dataclass
class Load:
    requests: int
    errors: int
    wall_s: float
    latencies: list[float]
    server_cpu_s: float
    client_cpu_s: float
    first_error: str = ""
    others_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies, p)

    def summary(self, per: str = "req") -> dict[str, float | int | str]:
        ok = max(self.requests - self.errors, 1)
        out: dict[str, float | int | str] = {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.wall_s, 3),
            f"{per}_per_s": round(self.rate, 1),
            "p50_ms": round(self.pct(50) * 1e3, 2),
            "p99_ms": round(self.pct(99) * 1e3, 2),
            "server_cpu_ms_per_req": round(self.server_cpu_s / ok * 1e3, 3),
            "server_cores": round(self.server_cpu_s / self.wall_s, 2) if self.wall_s else 0,
            "client_cpu_us_per_req": round(self.client_cpu_s / max(self.requests, 1) * 1e6, 1),
            "client_cores": round(self.client_cpu_s / self.wall_s, 2) if self.wall_s else 0,
            "other_processes_cores": round(self.others_cpu_s / self.wall_s, 2)
            if self.wall_s else 0,
        }
        if self.first_error:
            out["first_error"] = self.first_error
        return out


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def closed_loop(
    host: str,
    port: int,
    server_pid: int,
    clients: int,
    make: MakeRequest,
    *,
    duration: float,
    max_requests: int,
    warmup: float = 0.0,
    conns: list[Connection] | None = None,
) -> Load:
    """Run ``clients`` loops for up to ``duration`` seconds or ``max_requests`` requests."""
    own = conns is None
    pool = conns if conns is not None else await open_pool(host, port, clients)
    counters = [0] * clients  # per-client request numbers, carried from warm-up into the run
    try:
        if warmup > 0:
            await _drive(pool, make, counters, warmup, max_requests, [], None)
        meter = CpuMeter(server_pid)
        latencies: list[float] = []
        meter.start()
        errors, first = await asyncio.wait_for(
            _drive(pool, make, counters, duration, max_requests, latencies, meter),
            timeout=duration + 120,
        )
        meter.stop()
        return Load(len(latencies), errors, meter.wall, latencies, meter.server, meter.client,
                    first, meter.others)
    finally:
        if own:
            for conn in pool:
                conn.close()


async def _drive(
    pool: list[Connection],
    make: MakeRequest,
    counters: list[int],
    duration: float,
    max_requests: int,
    latencies: list[float],
    meter: CpuMeter | None,
) -> tuple[int, str]:
    deadline = time.perf_counter() + duration
    state = _State(max_requests)
    clock = time.perf_counter

    async def client(i: int, conn: Connection) -> None:
        record = latencies.append
        while state.left > 0 and clock() < deadline:
            state.left -= 1
            method, path, body, headers = make(i, counters[i])
            counters[i] += 1
            t0 = clock()
            status, reply = await conn.request(method, path, body, headers)
            record(clock() - t0)
            if status != 200:
                state.errors += 1
                if not state.first:
                    state.first = f"HTTP {status} {reply[:200].decode(errors='replace')}"

    await asyncio.gather(*(client(i, c) for i, c in enumerate(pool)))
    return state.errors, state.first


@dataclass
class _State:
    left: int
    errors: int = 0
    first: str = ""


async def timed(fn: Callable[[], object], repeats: int, budget: float) -> list[float]:
    """Run an async zero-argument ``fn`` up to ``repeats`` times within ``budget`` seconds."""
    out: list[float] = []
    end = time.perf_counter() + budget
    while len(out) < repeats and (not out or time.perf_counter() < end):
        t0 = time.perf_counter()
        await fn()  # type: ignore[misc]
        out.append(time.perf_counter() - t0)
    return out


async def timed_cpu(fn: Callable[[], object], repeats: int, budget: float,
                    server_pid: int) -> tuple[list[float], float]:
    """``timed``, and the server tree's CPU seconds per call of ``fn`` over all the calls."""
    meter = CpuMeter(server_pid)
    meter.start()
    times = await timed(fn, repeats, budget)
    meter.stop()
    return times, meter.server / max(len(times), 1)
