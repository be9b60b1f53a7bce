"""An OpenAPI 3 description of the REST API, generated from the route table.

The structure (paths, methods, prefixes, path parameters) comes from ``api/routes.py``; the
field schemas are written by hand, one module per resource. ``GET <static prefix>/openapi.json``
serves it (see ``api/misc.py``).
"""

from __future__ import annotations

import functools

import orjson

from trackd.api.openapi.document import SchemaCoverageError, build_document, coverage_problems

__all__ = ["SchemaCoverageError", "build_document", "coverage_problems", "document_json"]


@functools.cache
def document_json(static_prefix: str, auth: bool) -> bytes:
    """The served document, built once per process (it depends only on these two settings)."""
    # Imported here: the route table imports the handler that serves this document.
    from trackd.api.routes import api_routes

    return orjson.dumps(build_document(api_routes(), static_prefix=static_prefix, auth=auth))
