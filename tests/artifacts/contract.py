"""The ArtifactStore contract: what every backend must do, the same way.

Each check is ``async def check(store, backend)`` and is registered with :func:`check`;
``test_contract.py`` runs every check against every backend in ``conftest.BACKENDS``. Checks
speak only through the store's public interface (plus plain HTTP for presigned URLs), so a new
backend passes or fails them without any test code of its own.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from trackd.artifacts.base import ArtifactStore, FileEntry, NotSupported
from trackd.artifacts.paths import UPLOAD_TEMP_PREFIX
from trackd.errors import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowError

Check = Callable[[ArtifactStore, Any], Awaitable[None]]
CHECKS: dict[str, Check] = {}
MIB = 1024 * 1024


def check(fn: Check) -> Check:
    CHECKS[fn.__name__] = fn
    return fn


async def chunks_of(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def put(store: ArtifactStore, path: str, data: bytes) -> None:
    assert await store.write(path, chunks_of(data)) == len(data)


async def get(store: ArtifactStore, path: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join([c async for c in store.read(path, start, length)])


async def error_of(awaitable: Awaitable[Any]) -> MlflowError:
    with pytest.raises(MlflowError) as info:
        await awaitable
    return info.value


# -- the checks ------------------------------------------------------------------------------


@check
async def round_trip(store: ArtifactStore, backend: Any) -> None:
    await put(store, "a/b/c.txt", b"hello artifacts")
    assert await get(store, "a/b/c.txt") == b"hello artifacts"
    found = await store.stat("a/b/c.txt")
    assert found is not None and not found.is_dir and found.size == 15
    folder = await store.stat("a/b")
    assert folder is not None and folder.is_dir
    assert await store.exists("a/b/c.txt")


@check
async def ranged_reads(store: ArtifactStore, backend: Any) -> None:
    data = os.urandom(3 * MIB + 123)
    await put(store, "blob.bin", data)
    assert await get(store, "blob.bin", 1000, 2_500_000) == data[1000:2_501_000]
    assert await get(store, "blob.bin", len(data) - 10) == data[-10:]
    assert await get(store, "blob.bin", 5, 0) == b""
    assert await get(store, "blob.bin", 0, len(data) + 50) == data
    assert await get(store, "blob.bin") == data


@check
async def listing_shapes(store: ArtifactStore, backend: Any) -> None:
    await put(store, "top.txt", b"1")
    await put(store, "x/1.txt", b"22")
    await put(store, "x/sub/2.txt", b"333")
    await put(store, "x/sub/deeper/3.txt", b"4444")
    assert await store.list() == [FileEntry("top.txt", False, 1), FileEntry("x", True)]
    assert await store.list("") == await store.list()
    assert await store.list("x") == [FileEntry("x/1.txt", False, 2), FileEntry("x/sub", True)]
    assert await store.list("x/sub/deeper") == [FileEntry("x/sub/deeper/3.txt", False, 4)]
    assert await store.list("x/sub/deeper/3.txt") == []  # a file lists as nothing
    assert await store.list("missing") == []
    assert await store.list("x/su") == []  # prefixes are not directories


@check
async def missing_paths(store: ArtifactStore, backend: Any) -> None:
    await put(store, "d/f.txt", b"x")
    assert await store.stat("nope") is None
    assert await store.stat("d/nope") is None
    assert not await store.exists("d/f.txt/child")
    gone = await error_of(get(store, "d/nope.txt"))
    assert (gone.code, gone.message) == (RESOURCE_DOES_NOT_EXIST, "No such artifact: 'd/nope.txt'")
    folder = await error_of(get(store, "d"))
    assert folder.code == INVALID_PARAMETER_VALUE
    assert folder.message == "Artifact path refers to a directory, not a file: 'd'"
    await store.delete("nope")  # not an error
    await store.delete("d/nope/deeper")


@check
async def overwrite(store: ArtifactStore, backend: Any) -> None:
    await put(store, "o/file.txt", b"first version")
    await put(store, "o/file.txt", b"second")
    assert await get(store, "o/file.txt") == b"second"
    assert await store.list("o") == [FileEntry("o/file.txt", False, 6)]


@check
async def empty_file(store: ArtifactStore, backend: Any) -> None:
    await put(store, "empty/e.txt", b"")
    found = await store.stat("empty/e.txt")
    assert found is not None and found.size == 0 and not found.is_dir
    assert await get(store, "empty/e.txt") == b""
    assert await store.list("empty") == [FileEntry("empty/e.txt", False, 0)]


@check
async def awkward_names(store: ArtifactStore, backend: Any) -> None:
    path = "dir with space/ümlaut+plus=%41&x.txt"
    await put(store, path, b"odd")
    assert await get(store, path) == b"odd"
    assert await store.list("dir with space") == [FileEntry(path, False, 3)]


@check
async def large_streamed_upload(store: ArtifactStore, backend: Any) -> None:
    """Above the object stores' part size, so their multipart path runs."""
    digest = hashlib.sha256()
    size = 0

    async def produce() -> AsyncIterator[bytes]:
        nonlocal size
        for i in range(19):
            block = os.urandom(MIB) if i % 5 == 0 else bytes([i]) * MIB
            digest.update(block)
            size += len(block)
            yield block
        tail = b"tail" * 1000
        digest.update(tail)
        size += len(tail)
        yield tail

    assert await store.write("big/large.bin", produce()) == size
    back = hashlib.sha256()
    async for chunk in store.read("big/large.bin"):
        back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
    assert await store.list("big") == [FileEntry("big/large.bin", False, size)]


@check
async def failed_upload_leaves_nothing(store: ArtifactStore, backend: Any) -> None:
    await put(store, "keep.txt", b"k")
    for produced in (100, 9 * MIB):  # a small upload, and one that began a multipart upload

        async def broken(produced: int = produced) -> AsyncIterator[bytes]:
            sent = 0
            while sent < produced:
                yield b"z" * min(MIB, produced - sent)
                sent += MIB
            raise RuntimeError("client went away")

        with pytest.raises(RuntimeError):
            await store.write("failed/half.bin", broken())
        assert await store.stat("failed/half.bin") is None
        assert await store.list("failed") == []
        assert await store.list() == [FileEntry("keep.txt", False, 1)]
        if backend.hierarchical:
            assert await store.stat("failed") is None  # no directory was left either


@check
async def upload_names_are_reserved(store: ArtifactStore, backend: Any) -> None:
    error = await error_of(store.write(f"d/{UPLOAD_TEMP_PREFIX}x", chunks_of(b"1")))
    assert error.code == INVALID_PARAMETER_VALUE
    assert "reserved" in error.message


@check
async def delete_trees_and_files(store: ArtifactStore, backend: Any) -> None:
    for path in ("t/a.txt", "t/s/b.txt", "t/s/c/d.txt", "other/e.txt", "t2.txt"):
        await put(store, path, b"data")
    await store.delete("t/s")
    assert await store.list("t") == [FileEntry("t/a.txt", False, 4)]
    assert await store.stat("t/s") is None
    await store.delete("t/a.txt")
    assert await store.stat("t/a.txt") is None
    assert await get(store, "other/e.txt") == b"data"
    await store.delete("t")
    assert [e.path for e in await store.list()] == ["other", "t2.txt"]


@check
async def filesystem_rules(store: ArtifactStore, backend: Any) -> None:
    """Hierarchical stores refuse what a filesystem cannot hold; object stores need not."""
    if not backend.hierarchical:
        pytest.skip("object stores hold 'a' and 'a/b' side by side")
    await put(store, "f/file.txt", b"1")
    under_file = await error_of(store.write("f/file.txt/child.txt", chunks_of(b"2")))
    assert under_file.code == INVALID_PARAMETER_VALUE
    await put(store, "f/dir/inner.txt", b"3")
    over_dir = await error_of(store.write("f/dir", chunks_of(b"4")))
    assert over_dir.code == INVALID_PARAMETER_VALUE
    assert await get(store, "f/dir/inner.txt") == b"3"


@check
async def multipart_protocol(store: ArtifactStore, backend: Any) -> None:
    if not store.supports_multipart_upload:
        with pytest.raises(NotSupported):
            await store.create_multipart_upload("mp/file.bin", 2)
        return
    first, second = os.urandom(5 * MIB), os.urandom(1000)
    upload = await store.create_multipart_upload("mp/file.bin", 2)
    assert [c.part_number for c in upload.credentials] == [1, 2]
    parts = []
    async with httpx.AsyncClient(timeout=60) as http:
        for credential, body in zip(upload.credentials, (first, second), strict=True):
            sent = await http.put(credential.url, content=body, headers=credential.headers)
            assert sent.status_code in (200, 201), sent.text
            parts.append((credential.part_number, sent.headers.get("etag", "")))
        assert await store.stat("mp/file.bin") is None  # nothing visible before completion
        await store.complete_multipart_upload("mp/file.bin", upload.upload_id, parts)
        assert await get(store, "mp/file.bin") == first + second

        dropped = await store.create_multipart_upload("mp/dropped.bin", 1)
        await http.put(
            dropped.credentials[0].url, content=b"never", headers=dropped.credentials[0].headers
        )
        await store.abort_multipart_upload("mp/dropped.bin", dropped.upload_id)
        assert await store.stat("mp/dropped.bin") is None


@check
async def presigned_downloads(store: ArtifactStore, backend: Any) -> None:
    await put(store, "p/file.bin", b"0123456789" * 100)
    if not store.supports_presigned_download:
        with pytest.raises(NotSupported):
            await store.presigned_download_url("p/file.bin")
        return
    signed = await store.presigned_download_url("p/file.bin")
    assert signed.file_size == 1000
    async with httpx.AsyncClient(timeout=60) as http:
        whole = await http.get(signed.url, headers=signed.headers)
        assert whole.status_code == 200 and whole.content == b"0123456789" * 100
        part = await http.get(signed.url, headers={**signed.headers, "Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == b"0123456789"
    missing = await error_of(store.presigned_download_url("p/none.bin"))
    assert missing.code == RESOURCE_DOES_NOT_EXIST
