"""Package metadata in the form current setuptools wants: the license as an SPDX expression
(the TOML-table form is deprecated, and an error from 2027-02-18)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def test_license_is_an_spdx_expression() -> None:
    license_ = PYPROJECT["project"]["license"]
    assert isinstance(license_, str), "project.license must be an SPDX string, not a table"
    assert canonicalize_license_expression(license_) == license_
    # The PEP 639 form needs no license classifier, and setuptools refuses both together.
    classifiers = PYPROJECT["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_build_backend_understands_the_spdx_license() -> None:
    setuptools = next(Requirement(r) for r in PYPROJECT["build-system"]["requires"]
                      if Requirement(r).name == "setuptools")
    # 77.0 is the first setuptools that reads project.license as an SPDX expression.
    assert not setuptools.specifier.contains(Version("76.9"))
    assert setuptools.specifier.contains(Version("77.0"))
