"""Build hook: put the web UI's npm libraries into the package while it is built.

Everything else about the package is declared in pyproject.toml. This file only adds one step
to ``build_py``, which setuptools runs for ``pip install .`` (wheel) and for ``pip install -e .``
(editable wheel) alike: ``npm ci`` against the committed package-lock.json, then a copy of the
few dist files the UI loads into ``src/trackd/web/static/vendor/`` (gitignored), from where
package-data takes them into the wheel, or an editable install serves them in place. No
third-party bundle is ever committed; the lockfile pins exactly what gets built.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
VENDOR = ROOT / "src" / "trackd" / "web" / "static" / "vendor"
LOCKFILE = ROOT / "package-lock.json"
# node_modules path -> name under static/vendor/
VENDOR_FILES = {
    "uplot/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
    "uplot/dist/uPlot.min.css": "uPlot.min.css",
    "uplot/LICENSE": "uPlot.LICENSE",
}


def vendor_is_current() -> bool:
    """True when every vendored file exists and is newer than the lockfile."""
    if not LOCKFILE.exists():
        # An sdist built without the lockfile can only ship what it already holds.
        return all((VENDOR / name).exists() for name in VENDOR_FILES.values())
    stamp = LOCKFILE.stat().st_mtime
    return all(
        (VENDOR / name).exists() and (VENDOR / name).stat().st_mtime >= stamp
        for name in VENDOR_FILES.values()
    )


def build_vendor() -> None:
    if vendor_is_current():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "trackd's web UI needs npm (Node 20) at build time to fetch its charting library "
            "(see package.json); install Node.js and npm, then run the install again."
        )
    # --ignore-scripts: the UI's dependencies need no install scripts, so none may run.
    subprocess.run(
        [npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=ROOT,
        check=True,
    )
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, name in VENDOR_FILES.items():
        shutil.copyfile(ROOT / "node_modules" / source, VENDOR / name)


class BuildPyWithVendor(build_py):
    """``build_py`` that first brings the npm dist files into the package's static folder."""

    def run(self) -> None:
        build_vendor()
        # The package-data file list may have been computed before the vendor files existed.
        self.__dict__.pop("data_files", None)
        super().run()


class SdistWithVendor(sdist):
    """An sdist carries the built vendor files, so a wheel built from it needs no npm."""

    def run(self) -> None:
        build_vendor()
        super().run()


setup(cmdclass={"build_py": BuildPyWithVendor, "sdist": SdistWithVendor})
