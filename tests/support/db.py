"""Adapter over `tests/dbs.py` (owned elsewhere): a fresh database URL as a context manager."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def enter_database(kind: str, tmp_path: Path) -> contextlib.AbstractContextManager[str]:
    """`dbs.fresh_database(kind, tmp_path)` as a context manager yielding the URL.

    Accepts whichever form that helper takes (context manager, generator or plain string), so
    the two files can change independently.
    """
    from dbs import fresh_database  # tests/ is on sys.path (see tests/conftest.py)

    made: Any = fresh_database(kind, tmp_path)
    if isinstance(made, str):
        return contextlib.nullcontext(made)
    if hasattr(made, "__enter__"):
        return made  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def from_generator() -> Iterator[str]:
        url = next(made)
        try:
            yield url
        finally:
            with contextlib.suppress(StopIteration):
                next(made)

    return from_generator()
