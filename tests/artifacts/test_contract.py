"""Every check of the artifact-store contract against every backend (see contract.py)."""

from __future__ import annotations

import anyio
import pytest

from .conftest import Backend
from .contract import CHECKS


@pytest.mark.parametrize("name", list(CHECKS))
def test_contract(backend: Backend, name: str) -> None:
    async def run() -> None:
        store = backend.open()
        try:
            await CHECKS[name](store, backend)
        finally:
            await store.close()

    anyio.run(run)
