"""BodyTimeout in-process: one table of body waits per event loop, one timer for the oldest.
Each wait is bounded on its own: an overdue wait is cut off (as a client that hung up) while a
younger one, or one whose piece arrived in time, goes on."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import ClientDisconnect

from trackd.http_timeouts import BodyTimeout


def _outcomes(delays: dict[str, float], seconds: float) -> dict[str, Any]:
    """Requests whose one body piece arrives after ``delays[path]`` seconds (inf: never)."""
    outcomes: dict[str, Any] = {}

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        try:
            message = await receive()
            outcomes[scope["path"]] = message["body"]
        except ClientDisconnect:
            outcomes[scope["path"]] = "cut off"

    async def main() -> None:
        layer = BodyTimeout(app, seconds)

        async def one(path: str, delay: float, start: float) -> None:
            await asyncio.sleep(start)

            async def receive() -> dict[str, Any]:
                await asyncio.sleep(delay if delay != float("inf") else 3600)
                return {"type": "http.request", "body": path.encode(), "more_body": False}

            await layer({"type": "http", "path": path}, receive, None)

        await asyncio.wait_for(asyncio.gather(
            *(one(p, d, 0.05 * i) for i, (p, d) in enumerate(delays.items()))), 5)

    asyncio.run(main())
    return outcomes


def test_each_wait_is_bounded_on_its_own() -> None:
    got = _outcomes({"/stalls": float("inf"), "/in-time": 0.2, "/instant": 0.0,
                     "/stalls-later": float("inf")}, seconds=0.4)
    assert got == {"/stalls": "cut off", "/in-time": b"/in-time", "/instant": b"/instant",
                   "/stalls-later": "cut off"}


def test_a_piece_just_inside_the_limit_is_kept() -> None:
    assert _outcomes({"/a": 0.3, "/b": 0.35}, seconds=0.5) == {"/a": b"/a", "/b": b"/b"}
