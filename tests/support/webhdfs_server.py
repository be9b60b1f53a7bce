"""A WebHDFS protocol server over a local directory, for tests: a namenode and a datanode.

It speaks the part of the WebHDFS REST API that artifact stores use, the way Hadoop does:

* namenode ``/webhdfs/v1/<path>?op=...``: GETFILESTATUS, LISTSTATUS, MKDIRS, RENAME, DELETE
  answered directly; OPEN and CREATE answered ``307`` with a URL on the *datanode* (another
  port), which then streams the bytes (CREATE bodies may be chunked);
* errors as ``{"RemoteException": {"exception", "javaClassName", "message"}}`` with Hadoop's
  statuses (404 FileNotFoundException, 403 AccessControlException, 401 SecurityException...);
* optional checks that each namenode call carries ``user.name`` or ``delegation=<token>``;
* ``gateway=True``: behave like HttpFS instead, a gateway that serves OPEN itself and takes
  CREATE's bytes after redirecting to itself with ``data=true``.

Run it alone with ``python tests/support/webhdfs_server.py ROOT [--port N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_CHUNK = 64 * 1024


class RemoteError(Exception):
    def __init__(self, status: int, exception: str, message: str) -> None:
        super().__init__(message)
        self.status, self.exception, self.message = status, exception, message


def _not_found(path: str) -> RemoteError:
    return RemoteError(404, "FileNotFoundException", f"File does not exist: {path}")


@dataclass
class WebHdfsState:
    root: Path
    require_user: bool = False
    delegation_token: str | None = None
    gateway: bool = False
    namenode_url: str = ""
    datanode_url: str = ""
    # What the server saw, for assertions: (node, method, op, path).
    calls: list[tuple[str, str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def local(self, hdfs_path: str) -> Path:
        parts = [p for p in hdfs_path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise RemoteError(400, "IllegalArgumentException", f"Invalid path {hdfs_path}")
        return self.root.joinpath(*parts)


def file_status(path: Path, suffix: str) -> dict[str, Any]:
    st = path.stat()
    is_dir = path.is_dir()
    return {
        "accessTime": int(st.st_atime * 1000),
        "blockSize": 0 if is_dir else 134217728,
        "childrenNum": len(list(path.iterdir())) if is_dir else 0,
        "fileId": st.st_ino,
        "group": "supergroup",
        "length": 0 if is_dir else st.st_size,
        "modificationTime": int(st.st_mtime * 1000),
        "owner": "hdfs",
        "pathSuffix": suffix,
        "permission": "755" if is_dir else "644",
        "replication": 0 if is_dir else 3,
        "storagePolicy": 0,
        "type": "DIRECTORY" if is_dir else "FILE",
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: WebHdfsState
    node = "namenode"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        prefix = "/webhdfs/v1"
        hdfs_path = urllib.parse.unquote(url.path[len(prefix) :]) or "/"
        op = params.get("op", "").upper()
        with self.state.lock:
            self.state.calls.append((self.node, method, op, hdfs_path))
        try:
            if not url.path.startswith(prefix):
                raise RemoteError(404, "IllegalArgumentException", f"Not WebHDFS: {url.path}")
            self._check_auth(params)
            handler = getattr(self, f"{self.node}_{method}_{op}", None)
            if handler is None:
                raise RemoteError(
                    400,
                    "IllegalArgumentException",
                    f'Invalid value for webhdfs parameter "op": {op}',
                )
            handler(hdfs_path, params)
        except RemoteError as exc:
            self._drain()
            self._json(
                exc.status,
                {
                    "RemoteException": {
                        "exception": exc.exception,
                        "javaClassName": f"java.io.{exc.exception}",
                        "message": exc.message,
                    }
                },
            )

    def _check_auth(self, params: dict[str, str]) -> None:
        if self.node != "namenode":
            return  # datanode URLs are made by the namenode and carry what it checked
        if self.state.delegation_token is not None:
            if params.get("delegation") != self.state.delegation_token:
                raise RemoteError(
                    403,
                    "SecurityException",
                    "Failed to obtain user group info: token is missing or invalid",
                )
        elif self.state.require_user and not params.get("user.name"):
            raise RemoteError(401, "SecurityException", "Authentication required")

    # -- responses -----------------------------------------------------------------------------

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, hdfs_path: str, params: dict[str, str]) -> None:
        self._drain()
        if self.state.gateway:
            base, query = (
                self.state.namenode_url,
                urllib.parse.urlencode({**params, "data": "true"}),
            )
        else:
            base = self.state.datanode_url
            query = urllib.parse.urlencode({**params, "namenoderpcaddress": "localhost:8020"})
        location = f"{base}/webhdfs/v1{urllib.parse.quote(hdfs_path)}?{query}"
        self.send_response(307)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _drain(self) -> None:
        """Read a request body nobody wants, so the connection stays usable."""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            for _ in self._chunks():
                pass

    def _chunks(self) -> Any:
        """The request body in pieces, from Content-Length or chunked transfer coding."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline()
                if not line:
                    raise ConnectionError("client went away mid-body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                data = self.rfile.read(size)
                if len(data) < size:
                    raise ConnectionError("client went away mid-chunk")
                self.rfile.readline()
                yield data
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            data = self.rfile.read(min(_CHUNK, remaining))
            if not data:
                raise ConnectionError("client went away mid-body")
            remaining -= len(data)
            yield data

    # -- namenode ------------------------------------------------------------------------------

    def namenode_GET_GETFILESTATUS(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        if not local.exists():
            raise _not_found(hdfs_path)
        self._json(200, {"FileStatus": file_status(local, "")})

    def namenode_GET_LISTSTATUS(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        if not local.exists():
            raise _not_found(hdfs_path)
        if local.is_file():
            statuses = [file_status(local, "")]
        else:
            statuses = [file_status(c, c.name) for c in sorted(local.iterdir())]
        self._json(200, {"FileStatuses": {"FileStatus": statuses}})

    def namenode_GET_OPEN(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        if not local.is_file():
            raise _not_found(hdfs_path)
        if self.state.gateway:
            self.datanode_GET_OPEN(hdfs_path, params)
        else:
            self._redirect(hdfs_path, params)

    def namenode_PUT_CREATE(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        if local.is_dir():
            raise RemoteError(403, "FileAlreadyExistsException", f"{hdfs_path} is a directory")
        if local.exists() and params.get("overwrite", "false").lower() != "true":
            raise RemoteError(403, "FileAlreadyExistsException", f"{hdfs_path} already exists")
        if self.state.gateway and params.get("data") == "true":
            self.datanode_PUT_CREATE(hdfs_path, params)
        else:
            self._redirect(hdfs_path, params)

    def namenode_PUT_MKDIRS(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        probe = local
        while probe != self.state.root and not probe.exists():
            probe = probe.parent
        if probe.exists() and not probe.is_dir():
            raise RemoteError(
                403, "ParentNotDirectoryException", f"Parent path is not a directory: {hdfs_path}"
            )
        local.mkdir(parents=True, exist_ok=True)
        self._json(200, {"boolean": True})

    def namenode_PUT_RENAME(self, hdfs_path: str, params: dict[str, str]) -> None:
        source = self.state.local(hdfs_path)
        target = self.state.local(params.get("destination", ""))
        # HDFS semantics: no replacing, no creating the target's parent.
        ok = source.exists() and not target.exists() and target.parent.is_dir()
        if ok:
            os.rename(source, target)
        self._json(200, {"boolean": ok})

    def namenode_DELETE_DELETE(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        if not local.exists():
            self._json(200, {"boolean": False})
            return
        if local.is_dir():
            if params.get("recursive", "false").lower() != "true" and any(local.iterdir()):
                raise RemoteError(
                    403, "PathIsNotEmptyDirectoryException", f"{hdfs_path} is non empty"
                )
            shutil.rmtree(local)
        else:
            local.unlink()
        self._json(200, {"boolean": True})

    # -- datanode ------------------------------------------------------------------------------

    def datanode_GET_OPEN(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        if not local.is_file():
            raise _not_found(hdfs_path)
        size = local.stat().st_size
        offset = int(params.get("offset") or 0)
        length = int(params["length"]) if params.get("length") else size - offset
        length = max(0, min(length, size - offset))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        with local.open("rb") as fh:
            fh.seek(offset)
            while length > 0:
                data = fh.read(min(_CHUNK, length))
                if not data:
                    break
                self.wfile.write(data)
                length -= len(data)

    def datanode_PUT_CREATE(self, hdfs_path: str, params: dict[str, str]) -> None:
        local = self.state.local(hdfs_path)
        local.parent.mkdir(parents=True, exist_ok=True)
        # Like a datanode, bytes land in the file as they come: a broken upload leaves a
        # partial file behind, which is the client's to delete.
        with local.open("wb") as fh:
            for data in self._chunks():
                fh.write(data)
        self.send_response(201)
        self.send_header("Location", f"hdfs://localhost:8020{hdfs_path}")
        self.send_header("Content-Length", "0")
        self.end_headers()


class WebHdfsServer:
    """Namenode and datanode on two ports of 127.0.0.1, each served by its own thread."""

    def __init__(
        self,
        root: Path,
        *,
        port: int = 0,
        require_user: bool = False,
        delegation_token: str | None = None,
        gateway: bool = False,
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.state = WebHdfsState(root, require_user, delegation_token, gateway)
        self._namenode = self._server("namenode", port)
        self._datanode = self._server("datanode", 0)
        self.state.namenode_url = f"http://127.0.0.1:{self._namenode.server_address[1]}"
        self.state.datanode_url = f"http://127.0.0.1:{self._datanode.server_address[1]}"
        self._threads: list[threading.Thread] = []

    def _server(self, node: str, port: int) -> ThreadingHTTPServer:
        handler = type(f"{node}Handler", (_Handler,), {"state": self.state, "node": node})
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        server.daemon_threads = True
        return server

    @property
    def port(self) -> int:
        return int(self._namenode.server_address[1])

    def uri(self, path: str = "/artifacts") -> str:
        return f"webhdfs://127.0.0.1:{self.port}/{path.strip('/')}"

    def start(self) -> WebHdfsServer:
        for server in (self._namenode, self._datanode):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self._namenode, self._datanode):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> WebHdfsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--require-user", action="store_true")
    parser.add_argument("--delegation-token")
    args = parser.parse_args()
    with WebHdfsServer(
        args.root,
        port=args.port,
        require_user=args.require_user,
        delegation_token=args.delegation_token,
    ) as server:
        print(
            f"WebHDFS namenode on {server.uri('/')} (datanode {server.state.datanode_url})",
            flush=True,
        )
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
