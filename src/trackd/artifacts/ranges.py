"""HTTP ``Range: bytes=...`` for artifact downloads (RFC 9110 §14).

Only single ranges are honoured: a multi-range request, or one that does not parse, gets the
whole file with 200, which the RFC allows and every client handles. A syntactically valid range
that lies entirely past the end of the file is the one case answered 416.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"requested range not satisfiable (size {size})")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    start: int
    length: int

    @property
    def end(self) -> int:
        """Last byte, inclusive (as Content-Range writes it)."""
        return self.start + self.length - 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range to send for ``header`` on a file of ``size`` bytes; None = whole file."""
    if not header:
        return None
    match = _SINGLE.match(header)
    if match is None:
        return None  # multiple ranges, another unit, or garbage: send everything
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        start = max(0, size - suffix)
        return ByteRange(start, size - start)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid range-spec: ignore the header
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end - start + 1)
