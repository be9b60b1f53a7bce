"""``python -m bench.io``: trackd's start-up and its artifact transfers with curl, repeated.

The full bench (``python -m bench``) starts each server once, on a fresh database, and moves
an artifact with its own Python client. This one answers two narrower questions of issue 16
with figures that hold up on a shared machine (medians of several repetitions):

- start-up on an **existing** database (the usual case: a restart): seconds from exec to the
  first 200 on /health, the process's CPU seconds by then, RSS and PSS 2 s later;
- a large artifact through the proxy with **curl** as the client (so the client is not the
  limit): MB/s up and down, and the server's CPU seconds per GiB split into user (Python) and
  system (kernel) time, which depends far less on the machine's load than MB/s. Each upload is
  preceded by a plain write of the same bytes to the same folder (the "disk floor" now);
- what receiving the body costs without any disk: uvicorn in this process with an app that
  drops every piece, stock ``HttpToolsProtocol`` against trackd's (trackd.http_body), CPU
  seconds of this process per GiB sent by curl.

Usage: ``python -m bench.io [--startups 7] [--transfers 5] [--receive 3] [--mb 1024] [--port P]
[--workdir D]``; prints one JSON object. Run it with the trackd to measure on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import databases, servers
from bench.procs import PeakSampler, cpu_seconds, memory
from bench.scen_artifacts import curl_transfer, make_file, write_floor

MiB = 1 << 20


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in rows), 3)


def startups(workdir: Path, count: int, port: int | None) -> dict[str, Any]:
    kind = servers.KINDS["trackd"]
    db = databases.fresh("sqlite", "io-startup", workdir)
    servers.start(kind, db, workdir, port=port).stop()  # creates the schema: not measured
    rows = []
    for _ in range(count):
        srv = servers.start(kind, db, workdir, port=port)
        try:
            cpu = cpu_seconds([srv.pid])
            time.sleep(2.0)
            idle = memory(srv.pid)
            rows.append({"ready_s": srv.startup_s, "cpu_s": cpu,
                         "rss_MiB": idle.rss / MiB, "pss_MiB": idle.pss / MiB})
        finally:
            srv.stop()
    return {"runs": count, **{k: _median(rows, k) for k in rows[0]},
            "ready_s_all": [round(r["ready_s"], 3) for r in rows]}


def transfers(workdir: Path, count: int, size: int, port: int | None) -> dict[str, Any]:
    kind = servers.KINDS["trackd"]
    source = make_file(workdir / "io-artifact.bin", size)
    db = databases.fresh("sqlite", "io-transfer", workdir)
    srv = servers.start(kind, db, workdir, port=port)
    folder = workdir / f"artifacts-{kind.name}"
    sampler = PeakSampler(srv.pid).start()
    ups, downs, floors = [], [], []
    try:
        for _ in range(count):
            floors.append(write_floor(source, folder))
            rel = f"io/{uuid.uuid4().hex[:8]}/big.bin"
            ups.append(curl_transfer(srv.port, srv.pid, source, rel, upload=True))
            downs.append(curl_transfer(srv.port, srv.pid, source, rel, upload=False))
            shutil.rmtree(folder / "io", ignore_errors=True)
    finally:
        sampler.stop()
        srv.stop()
    summary: dict[str, Any] = {"bytes": size, "runs": count,
                               "disk_floor_MB_per_s": _median(floors, "MB_per_s")}
    for name, rows in (("upload", ups), ("download", downs)):
        summary[name] = {k: _median(rows, k) for k in rows[0]}
        summary[name]["MB_per_s_all"] = [r["MB_per_s"] for r in rows]
    summary["disk_floor_MB_per_s_all"] = [r["MB_per_s"] for r in floors]
    summary["peak_rss_MiB"] = round(sampler.peak_rss / MiB, 1)
    return summary


def receive_cost(source: Path, count: int, port: int) -> dict[str, Any]:
    import os
    import socket
    import subprocess
    import threading

    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from trackd.http_timeouts import HeaderTimeoutProtocol

    async def drop(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    gib = source.stat().st_size / (1 << 30)
    running = {}
    for offset, (name, protocol) in enumerate((("uvicorn", HttpToolsProtocol),
                                               ("trackd", HeaderTimeoutProtocol))):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((servers.HOST, port + offset))
        server = uvicorn.Server(uvicorn.Config(drop, http=protocol, lifespan="off",
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        running[name] = (server, thread, sock, port + offset)
    costs: dict[str, list[float]] = {name: [] for name in running}
    try:
        for _ in range(count):  # alternated, so that both meet the same machine
            for name, (_, _, _, bound) in running.items():
                before = os.times()
                subprocess.run(["curl", "-sS", "-f", "-T", str(source), "-o", "/dev/null",
                                f"http://{servers.HOST}:{bound}/drop"], check=True)
                after = os.times()
                spent = after.user - before.user + after.system - before.system
                costs[name].append(round(spent / gib, 3))
    finally:
        for server, thread, sock, _ in running.values():
            server.should_exit = True
            thread.join(10)
            sock.close()
    return {f"{name}_cpu_s_per_GiB": statistics.median(c) for name, c in costs.items()} | {
        f"{name}_cpu_s_per_GiB_all": c for name, c in costs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.io", description=__doc__)
    parser.add_argument("--startups", type=int, default=7)
    parser.add_argument("--transfers", type=int, default=5)
    parser.add_argument("--receive", type=int, default=3,
                        help="repetitions of the disk-less receive measurement (0: skip)")
    parser.add_argument("--mb", type=int, default=1024, help="artifact size in MiB")
    parser.add_argument("--port", type=int, help="port for trackd (default: any free one)")
    parser.add_argument("--workdir", type=Path, help="kept after the run when given")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="trackd-bench-io-"))
    workdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        if args.startups:
            out["startup"] = startups(workdir, args.startups, args.port)
            print(json.dumps(out["startup"]), file=sys.stderr, flush=True)
        if args.receive:
            source = make_file(workdir / "io-artifact.bin", args.mb * MiB)
            out["receive_only"] = receive_cost(source, args.receive, args.port or 56698)
        if args.transfers:
            out["artifacts"] = transfers(workdir, args.transfers, args.mb * MiB, args.port)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
