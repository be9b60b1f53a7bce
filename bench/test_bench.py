"""Checks of the suite's own parts: ``pytest bench/test_bench.py`` (no servers needed)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from bench import procs, report
from bench.httpclient import Connection
from bench.loads import closed_loop, percentile


async def _tiny_server(replies: list[bytes]) -> tuple[asyncio.Server, int, list[bytes]]:
    """Answers each request on a connection with the next canned reply; records requests."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in replies:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            seen.append(head + await reader.readexactly(length))
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


def test_client_reads_length_and_chunked_bodies() -> None:
    async def main() -> None:
        server, port, seen = await _tiny_server([
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nNot Found",
        ])
        conn = Connection("127.0.0.1", port)
        assert await conn.post_json("/x", {"a": 1}) == {}
        got: list[bytes] = []
        assert await conn.download("/big", got.append) == 200
        assert b"".join(got) == b"abcde"
        assert await conn.request("GET", "/missing") == (404, b"Not Found")
        conn.close()
        server.close()
        await server.wait_closed()
        assert seen[0].startswith(b"POST /x HTTP/1.1\r\n")
        assert seen[0].endswith(b'{"a":1}')

    asyncio.run(main())


def test_client_retries_a_keepalive_connection_the_server_closed() -> None:
    async def main() -> None:
        # The server answers one request per connection, then closes it, as an idle
        # keep-alive timeout does.
        server, port, _ = await _tiny_server([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
        conn = Connection("127.0.0.1", port)
        assert (await conn.request("GET", "/a"))[0] == 200
        await asyncio.sleep(0.05)
        assert (await conn.request("GET", "/b"))[0] == 200
        conn.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())


def test_closed_loop_counts_requests_and_errors() -> None:
    async def main() -> None:
        ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        bad = b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nboom"
        server, port, _ = await _tiny_server([ok, bad, ok, ok, ok, ok])

        def make(_i: int, _n: int) -> tuple[str, str, bytes | None, bytes]:
            return ("GET", "/", None, b"")

        load = await closed_loop("127.0.0.1", port, os.getpid(), 1, make, duration=5,
                                 max_requests=6)
        server.close()
        await server.wait_closed()
        assert load.requests == 6 and load.errors == 1
        assert load.first_error.startswith("HTTP 500 boom")
        assert float(load.summary()["req_per_s"]) > 0

    asyncio.run(main())


def test_percentile() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 50) in (50.0, 51.0)
    assert percentile(values, 99) == 99.0
    assert percentile([], 50) != percentile([], 50)  # NaN


def test_procs_sees_its_own_process() -> None:
    me = os.getpid()
    assert me in procs.tree(me)
    assert procs.cpu_seconds([me]) > 0
    mem = procs.memory(me)
    assert mem.rss > 0 and mem.pss > 0 and mem.processes >= 1


def test_report_ratios_and_targets() -> None:
    def server(label: str, rate: float, p50: float) -> dict[str, object]:
        return {"label": label, "log-metric": {"c8": {"req_per_s": rate}},
                "search": {"no_filter": {"p50_ms": p50}, "metric_filter": {"error": "HTTP 404"}}}

    results = {
        "config": {"search_runs": 10_000, "history_steps": 100_000},
        "servers": {"trackd": server("trackd", 4000, 10), "mlflow": server("mlflow", 100, 200),
                    "mlflow-4w": server("mlflow 4", 150, 300),
                    "fasttrackml": server("ftml", 1600, 20)},
    }
    table = report.build(results)
    rows = {line[0]: line for line in table.lines}
    rate = rows["log-metric, 8 clients (req/s)"]
    assert rate[1:5] == ["4,000", "100", "150", "1,600"]
    assert rate[5] == "26.7×"  # against the better mlflow (150)
    assert rate[6] == "2.50×"
    assert rate[7] == "≥25× mlflow ✓, ≥2.5× FTML ✓"  # issue 16's targets
    search = rows["search-runs page of 100, no filter, p50 (ms)"]
    assert search[5] == "20.0×" and search[6] == "2.00×"
    assert rows["search-runs page of 100, metric filter, p50 (ms)"][1] == "error: HTTP 404"
    assert "trackd" in report.markdown(table)
    # Without FastTrackML in the run (MariaDB) its targets are left out, not marked unknown.
    del results["servers"]["fasttrackml"]
    rows = {line[0]: line for line in report.build(results).lines}
    assert rows["log-metric, 8 clients (req/s)"][-1] == "≥25× mlflow ✓"


def test_footprint_of_an_installed_distribution() -> None:
    script = Path(__file__).with_name("footprint.py")
    out = subprocess.run([sys.executable, str(script), "click"], capture_output=True, text=True,
                         check=True)
    data = json.loads(out.stdout)
    assert data["dist"] == "click" and data["bytes"] > 10_000 and data["distributions"] >= 1


def test_write_floor_writes_the_bytes_and_cleans_up(tmp_path: Path) -> None:
    from bench.scen_artifacts import make_file, write_floor

    source = make_file(tmp_path / "src.bin", 3 << 20)
    folder = tmp_path / "artifacts"
    folder.mkdir()
    assert write_floor(source, folder)["MB_per_s"] > 0
    assert list(folder.iterdir()) == []


def test_trace_search_figures_per_search() -> None:
    from bench.traces import per_search

    repeated = {"wall_s": 2.0, "server_cpu_s": 0.5, "repeats": 5}
    assert per_search(repeated, "server_cpu_s") == 0.1
    assert per_search(repeated, "wall_s") == 0.4
    assert per_search({"wall_s": 2.0, "server_cpu_s": 0.5}, "server_cpu_s") == 0.5  # older files
