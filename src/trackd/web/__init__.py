"""trackd's web UI: server-rendered pages over the services, plus a little JavaScript."""

from trackd.web.ui import WebUI

__all__ = ["WebUI"]
