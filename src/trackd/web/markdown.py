"""Run and model descriptions: markdown rendered so that it cannot run script in the page.

Descriptions are written by anyone who can log to the server, so raw HTML in them is shown as
text (``html=False``), and links or images may only point to http(s), mailto or relative URLs.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markupsafe import Markup

_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/|\./|\.\./|[^:/?#]*([/?#]|$))", re.IGNORECASE)


def _validate_link(url: str) -> bool:
    return bool(_SAFE_URL.match(url.strip()))


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.enable("table")
_md.enable("strikethrough")
_md.validateLink = _validate_link  # type: ignore[method-assign]


def _open_links_safely(html: str) -> str:
    # Links leave the app in a new tab without handing it a window.opener.
    return html.replace("<a href=", '<a rel="noopener noreferrer nofollow" target="_blank" href=')


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    return Markup(_open_links_safely(_md.render(text)))
