"""A large artifact through the proxy (``mlflow-artifacts`` PUT and GET), against ``cp``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.context import Ctx
from bench.httpclient import Connection, HttpError
from bench.procs import CpuMeter
from bench.servers import HOST

CHUNK = 1 << 20
MiB = 1 << 20


def make_file(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that no layer can compress away (one random MiB, repeated)."""
    if path.exists() and path.stat().st_size == size:
        return path
    block = os.urandom(CHUNK)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, CHUNK)
            f.write(block[:n])
            left -= n
    return path


def cp_speed(path: Path) -> dict[str, Any]:
    """``cp`` of the same file on the same disk: the ceiling a proxy is compared with."""
    target = path.with_name(path.name + ".cp")
    subprocess.run(["cp", str(path), str(target)], check=True)  # warm the page cache alike
    target.unlink()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(["cp", str(path), str(target)], check=True)
        times.append(time.perf_counter() - t0)
        target.unlink()
    best = sorted(times)[1]  # the median of three
    size = path.stat().st_size
    return {"bytes": size, "seconds": round(best, 3), "MB_per_s": round(size / best / 1e6, 1)}


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:
        while data := f.read(CHUNK):
            yield data


async def artifacts(ctx: Ctx) -> dict[str, Any]:
    source: Path = ctx.shared["artifact_file"]
    size = source.stat().st_size
    rel = f"bench/{uuid.uuid4().hex[:8]}/big.bin"
    path = f"/api/2.0/mlflow-artifacts/artifacts/{rel}"
    conn = Connection(ctx.host, ctx.port)
    out: dict[str, Any] = {"bytes": size}
    try:
        # A small upload first: a server without the proxy answers it with an error, where a
        # 1 GB body would only be cut off with a connection reset.
        status, body = await conn.request("PUT", path.replace("big.bin", "probe.txt"), b"probe",
                                          b"Content-Type: text/plain\r\n")
        if status != 200:
            raise HttpError(status, body, "artifact proxy")
        ctx.sampler.mark()
        meter = CpuMeter(ctx.pid)
        meter.start()
        t0 = time.perf_counter()
        status, body = await conn.upload(path, file_chunks(source), size,
                                         b"Content-Type: application/octet-stream\r\n")
        up = time.perf_counter() - t0
        meter.stop()
        if status != 200:
            raise HttpError(status, body, "upload")
        out["upload_MB_per_s"] = round(size / up / 1e6, 1)
        out["upload_server_cpu_s_per_GiB"] = round(meter.server / (size / (1 << 30)), 3)
        out["upload_peak_rss_MiB"] = round(ctx.sampler.window_peak() / MiB, 1)

        received = [0]

        def sink(data: bytes) -> None:
            received[0] += len(data)

        ctx.sampler.mark()
        meter = CpuMeter(ctx.pid)
        meter.start()
        t0 = time.perf_counter()
        status = await conn.download(path, sink)
        down = time.perf_counter() - t0
        meter.stop()
        out["download_server_cpu_s_per_GiB"] = round(meter.server / (size / (1 << 30)), 3)
        if status != 200:
            raise HttpError(status, b"", "download")
        if received[0] != size:
            raise ValueError(f"downloaded {received[0]} bytes of {size}")
        out["download_MB_per_s"] = round(size / down / 1e6, 1)
        out["download_peak_rss_MiB"] = round(ctx.sampler.window_peak() / MiB, 1)
        out["peak_rss_MiB"] = max(out["upload_peak_rss_MiB"], out["download_peak_rss_MiB"])
    finally:
        conn.close()
        # Free the disk: the stored copy is not needed after the download.
        shutil.rmtree(ctx.workdir / f"artifacts-{ctx.server.kind.name}" / "bench",
                      ignore_errors=True)
    return out


# -- curl as the client (``python -m bench.io``) --------------------------------------------


def _user_system(pid: int) -> tuple[float, float]:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def write_floor(source: Path, folder: Path) -> dict[str, Any]:
    """The same bytes written to a new file in the artifact folder by a plain loop, no network:
    what the disk (the kernel's page cache) allows right now. On a shared virtual machine this
    moves between ~150 MB/s and ~2 GB/s from one minute to the next, so every upload figure is
    reported beside the floor measured just before it."""
    target = folder / f"floor-{uuid.uuid4().hex[:8]}.bin"
    size = source.stat().st_size
    t0 = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as out:
        while data := src.read(CHUNK):
            out.write(data)
    seconds = time.perf_counter() - t0
    target.unlink()
    return {"MB_per_s": round(size / seconds / 1e6, 1)}


def curl_transfer(port: int, pid: int, source: Path, rel: str, *, upload: bool) -> dict[str, Any]:
    """One ``curl -T`` upload (or plain GET download) of ``source`` through the proxy, with the
    server's CPU per GiB split into user (Python) and system (kernel) time."""
    url = f"http://{HOST}:{port}/api/2.0/mlflow-artifacts/artifacts/{rel}"
    size = source.stat().st_size
    if upload:
        argv = ["curl", "-sS", "-f", "-T", str(source), "-o", "/dev/null",
                "-H", "Content-Type: application/octet-stream", url]
    else:
        argv = ["curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{size_download}", url]
    user0, sys0 = _user_system(pid)
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    user1, sys1 = _user_system(pid)
    if done.returncode != 0:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stderr.strip()}")
    if not upload and int(float(done.stdout or 0)) != size:
        raise ValueError(f"downloaded {done.stdout} bytes of {size}")
    gib = size / (1 << 30)
    return {"MB_per_s": round(size / seconds / 1e6, 1),
            "cpu_s_per_GiB": round((user1 - user0 + sys1 - sys0) / gib, 3),
            "user_s_per_GiB": round((user1 - user0) / gib, 3),
            "system_s_per_GiB": round((sys1 - sys0) / gib, 3)}
