"""trackd's web UI: server-rendered pages over the services, plus a little JavaScript.

``trackd.web.ui.WebUI`` is the app; it is imported where it is used (on the first page request),
not here, so that importing ``trackd.web.pages`` stays cheap.
"""
