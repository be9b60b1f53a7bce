"""Installed size of a distribution and its dependency closure, run inside the target venv.

Usage: ``python bench/footprint.py DIST [--no-deps]``; prints JSON
``{"dist", "bytes", "distributions", "largest"}``. Sizes come from each distribution's
RECORD (what pip installed); an editable install adds its source package directory.
Runs with only the standard library and the ``packaging`` pip brings along.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import sys
from pathlib import Path

try:
    from packaging.markers import UndefinedEnvironmentName
    from packaging.requirements import Requirement
except ImportError:  # a bare venv still has pip's copy
    from pip._vendor.packaging.markers import UndefinedEnvironmentName  # type: ignore
    from pip._vendor.packaging.requirements import Requirement  # type: ignore


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_size(dist: md.Distribution) -> int:
    total = 0
    for f in dist.files or ():
        try:
            total += os.path.getsize(str(dist.locate_file(f)))
        except OSError:
            continue
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        # An editable install's RECORD lists only a .pth file; count the source tree.
        url = json.loads(direct)["url"]
        root = Path(url.removeprefix("file://"))
        for pkg in (dist.read_text("top_level.txt") or "").split() or [_norm(dist.name)]:
            for base in (root / "src" / pkg, root / pkg):
                if base.is_dir():
                    total += sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
                    break
    return total


def _wanted(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    for extra in extras or {""}:
        try:
            if req.marker.evaluate({"extra": extra}):
                return True
        except UndefinedEnvironmentName:
            continue
    return False


def closure(name: str, follow: bool) -> dict[str, int]:
    sizes: dict[str, int] = {}
    todo: list[tuple[str, set[str]]] = [(name, set())]
    seen_extras: dict[str, set[str]] = {}
    while todo:
        dist_name, extras = todo.pop()
        key = _norm(dist_name)
        if key in sizes and extras <= seen_extras.get(key, set()):
            continue
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError:
            continue  # an optional dependency that is not installed costs nothing
        if key not in sizes:
            sizes[key] = _dist_size(dist)
        seen_extras[key] = seen_extras.get(key, set()) | extras
        if not follow:
            continue
        for line in dist.requires or ():
            req = Requirement(line)
            if _wanted(req, extras):
                todo.append((req.name, set(req.extras)))
    return sizes


def main() -> None:
    name = sys.argv[1]
    sizes = closure(name, follow="--no-deps" not in sys.argv)
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:8]
    print(json.dumps({"dist": name, "bytes": sum(sizes.values()), "distributions": len(sizes),
                      "largest": [[k, v] for k, v in largest]}))


if __name__ == "__main__":
    main()
