"""The ``trackd`` command: ``server``, ``db upgrade``, ``db current``.

Flags and their environment variables mirror ``mlflow server`` / ``mlflow db`` so that a
platform's recipe for MLflow runs trackd unchanged.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

import click

from trackd import __version__
from trackd.config import (
    ConfigError,
    Settings,
    check_max_request_body_mb,
    check_seconds,
    check_x_frame_options,
    normalize_static_prefix,
    parse_list,
    settings_from_env,
)

log = logging.getLogger("trackd")


def _fail(message: str) -> None:
    click.echo(f"trackd: {message}", err=True)
    sys.exit(1)


class _Main(click.Group):
    """The command group that turns configuration and connection failures into one or two
    lines on stderr and exit code 1 (trackd.preflight.explain); a traceback only with
    --debug, or for an error nobody foresaw."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if isinstance(exc, (click.ClickException, click.exceptions.Exit,
                                click.exceptions.Abort)) or ctx.meta.get(_DEBUG):
                raise
            from trackd.preflight import explain

            message = explain(exc, ctx.meta.get(_URL), ctx.meta.get(_WHAT, "the backend store"))
            if message is None:
                raise
            if not message.startswith("trackd:"):
                message = f"trackd: {message}"
            click.echo(message, err=True)
            sys.exit(1)


# Keys of click's context meta (shared by a command and its group): --debug, and the database
# URL in use, whose password error messages must mask.
_DEBUG = "trackd.debug"
_URL = "trackd.url"
_WHAT = "trackd.url-is"


def _using(url: str, what: str = "the backend store") -> None:
    meta = click.get_current_context().meta
    meta[_URL] = url
    meta[_WHAT] = what


@click.group(cls=_Main)
@click.version_option(__version__, prog_name="trackd")
@click.option("--debug", is_flag=True, envvar="TRACKD_DEBUG",
              help="Full tracebacks and every library's log lines (alembic's included) "
              "[env TRACKD_DEBUG].")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """trackd: a fast experiment-tracking server that speaks MLflow."""
    ctx.meta[_DEBUG] = debug
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not debug:
        # Alembic announces its plugins and migration context on every start: noise to anyone
        # but the person debugging a migration.
        logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@click.option("--backend-store-uri", help="SQLAlchemy URL of the backend store "
              "[env MLFLOW_BACKEND_STORE_URI; default sqlite:///mlflow.db].")
@click.option("--default-artifact-root", help="Root for new experiments' artifacts "
              "[env MLFLOW_DEFAULT_ARTIFACT_ROOT or MLFLOW_DEFAULT_ARTIFACTORY_ROOT].")
@click.option("--artifacts-destination", help="Store behind mlflow-artifacts:/ "
              "[env MLFLOW_ARTIFACTS_DESTINATION; default ./mlartifacts].")
@click.option("--serve-artifacts/--no-serve-artifacts", default=None,
              help="Proxy artifact transfers through this server [env MLFLOW_SERVE_ARTIFACTS; "
              "default on].")
@click.option("-h", "--host", help="Address to listen on [env MLFLOW_HOST; default 127.0.0.1].")
@click.option("-p", "--port", type=int, help="Port [env MLFLOW_PORT; default 5000].")
@click.option("-w", "--workers", type=int, help="Worker processes [env MLFLOW_WORKERS; default 1].")
@click.option("--static-prefix", help="Path prefix for every route, e.g. /app/p1/5000 "
              "[env MLFLOW_STATIC_PREFIX].")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log every request.")
@click.option("--access-log-format", type=click.Choice(["text", "json"]),
              help="Access log lines as text (uvicorn's) or JSON objects, one per line; json "
              "turns the access log on [env TRACKD_ACCESS_LOG_FORMAT; default text].")
@click.option("--app-name", type=click.Choice(["basic-auth"]),
              help="As in `mlflow server`: basic-auth turns on users and permissions.")
@click.option("--auth/--no-auth", default=None,
              help="Users and permissions, MLflow basic-auth compatible; settings from "
              "MLFLOW_AUTH_CONFIG_PATH [env TRACKD_AUTH; default off].")
@click.option("--ssl-certfile", help="Serve HTTPS with this certificate (PEM) "
              "[env TRACKD_SSL_CERTFILE].")
@click.option("--ssl-keyfile", help="Private key of --ssl-certfile [env TRACKD_SSL_KEYFILE].")
@click.option("--allowed-hosts", help="Comma-separated Host headers to serve: names, patterns "
              "(*.example.com, 10.*) or networks (10.0.0.0/8); * for any [env "
              "MLFLOW_SERVER_ALLOWED_HOSTS; default localhost and private addresses].")
@click.option("--cors-allowed-origins", help="Comma-separated browser origins that may call the "
              "API from other sites; * for any [env MLFLOW_SERVER_CORS_ALLOWED_ORIGINS; default "
              "localhost origins only].")
@click.option("--x-frame-options", help="SAMEORIGIN, DENY or NONE [env "
              "MLFLOW_SERVER_X_FRAME_OPTIONS; default SAMEORIGIN].")
@click.option("--disable-security-middleware", is_flag=True, default=None,
              help="No Host check, CORS protection or security headers [env "
              "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE].")
@click.option("--max-request-body-mb", type=int, help="Largest API request body in MiB; "
              "artifact uploads are not limited [env TRACKD_MAX_REQUEST_BODY_MB; default 64].")
@click.option("--header-timeout", type=float, help="Seconds a client may take to send a "
              "request's headers; 0 for no limit [env TRACKD_HEADER_TIMEOUT; default 30].")
@click.option("--body-timeout", type=float, help="Seconds a client may pause while sending a "
              "request body; 0 for no limit [env TRACKD_BODY_TIMEOUT; default 60].")
@click.option("--keep-alive-timeout", type=float, help="Seconds an idle keep-alive connection "
              "stays open; above a proxy's idle timeout [env TRACKD_KEEP_ALIVE_TIMEOUT; "
              "default 120].")
@click.option("--max-connections", type=int, help="Open connections per worker before new "
              "requests get 503 [env TRACKD_MAX_CONNECTIONS; default 1000].")
@click.option("--mlflow-ui/--no-mlflow-ui", default=None,
              help="Serve MLflow's own web UI at / (from the installed mlflow package: pip "
              "install 'trackd[mlflow-ui]'); trackd's pages stay at /experiments "
              "[env TRACKD_MLFLOW_UI; default off].")
def server(access_log: bool, app_name: str | None, **flags: Any) -> None:
    """Run the tracking server."""
    try:
        settings = settings_from_env()
        if flags.get("static_prefix") is not None:
            flags["static_prefix"] = normalize_static_prefix(flags["static_prefix"])
        for name in ("allowed_hosts", "cors_allowed_origins"):
            if flags.get(name) is not None:
                flags[name] = parse_list(flags[name])
        if flags.get("x_frame_options") is not None:
            flags["x_frame_options"] = check_x_frame_options(flags["x_frame_options"])
        if flags.get("max_request_body_mb") is not None:
            check_max_request_body_mb(flags["max_request_body_mb"])
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout"):
            if flags.get(name) is not None:
                check_seconds(f"--{name.replace('_', '-')}", flags[name])
        if flags.get("max_connections") is not None and flags["max_connections"] < 1:
            raise ConfigError("--max-connections must be at least 1")
        if app_name == "basic-auth":
            flags["auth"] = True
        settings = settings.with_overrides(**flags)
        if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
            raise ConfigError("--ssl-certfile and --ssl-keyfile go together")
    except ConfigError as exc:
        _fail(str(exc))
    _using(settings.backend_store_uri)
    run_server(settings, access_log=access_log or settings.access_log_format == "json")


def run_server(settings: Settings, *, access_log: bool = False) -> None:
    import uvicorn

    from trackd.app import create_app
    from trackd.http_timeouts import HeaderTimeoutProtocol
    from trackd.preflight import bind, ensure_sqlite_folder
    from trackd.store.schema import SchemaError

    try:
        # The port first: a port in use must stop the server before it creates a database
        # file, an artifact folder or a schema.
        sock = bind(settings.host, settings.port)
    except ConfigError as exc:
        _fail(str(exc))
        return
    try:
        ensure_sqlite_folder(settings.backend_store_uri)
        # Built here first even with several workers: schema problems stop the command
        # before any worker starts, with the message on the terminal.
        app = create_app(settings)
    except (SchemaError, ConfigError) as exc:
        sock.close()
        _fail(str(exc))
        return
    except BaseException:
        sock.close()
        raise
    json_log = settings.access_log_format == "json"
    if json_log:
        _json_access_log()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        # With JSON lines trackd writes the access log itself (trackd.access).
        "access_log": access_log and not json_log,
        "log_level": "info",
        "proxy_headers": True,
        "forwarded_allow_ips": "*",
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.max_connections,
        # uvicorn has no header timeout of its own: its httptools protocol, with one.
        "http": functools.partial(HeaderTimeoutProtocol, header_timeout=settings.header_timeout),
    }
    if settings.ssl_certfile:
        options["ssl_certfile"] = settings.ssl_certfile
        options["ssl_keyfile"] = settings.ssl_keyfile
    scheme = "https" if settings.ssl_certfile else "http"
    log.info("trackd %s serving %s on %s://%s:%d%s%s", __version__,
             _redacted(settings.backend_store_uri), scheme, settings.host, settings.port,
             settings.static_prefix or "/", " (authentication on)" if settings.auth else "")
    from trackd.security import describe
    from trackd.store.urls import classic_driver_hint

    log.info("%s", describe(settings))
    if hint := classic_driver_hint(settings.backend_store_uri):
        log.info("%s", hint)
    if settings.workers <= 1:
        _freeze_startup_heap()
        # uvicorn.run() minus its own bind: serve the socket taken above.
        config = uvicorn.Config(app, **options)
        uvicorn.Server(config).run(sockets=[sock])
        return
    app.services.db.close()
    if "auth" in app.services.extra:  # each worker opens its own
        app.services.extra["auth"].close()
    config = uvicorn.Config(
        functools.partial(_worker_app, settings), factory=True, workers=settings.workers,
        **options,
    )
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[sock]).run()


def _json_access_log() -> None:
    # One JSON object per line on stdout, nothing around it, for log shippers.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("trackd.access")
    access.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    access.propagate = False


def _worker_app(settings: Settings) -> Any:
    from trackd.app import create_app

    if settings.access_log_format == "json":
        _json_access_log()

    app = create_app(settings)
    _freeze_startup_heap()
    return app


def _freeze_startup_heap() -> None:
    # Everything built so far (modules, SQLAlchemy's tables and compiled statements, the app)
    # lives as long as the process. Out of the collector's sight, it is not rescanned by every
    # full collection that a burst of allocations triggers (a page of 100 runs makes ~50,000
    # objects): those scans were a third of the CPU of a search-runs request.
    import gc

    gc.collect()
    gc.freeze()


def _redacted(url: str) -> str:
    from trackd.store.urls import redact

    return redact(url)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@click.argument("url")
def upgrade(url: str) -> None:
    """Create MLflow's schema on an empty database, or add trackd's indexes to a current one."""
    from trackd.preflight import ensure_sqlite_folder
    from trackd.store import schema
    from trackd.store.database import Database

    _using(url)
    ensure_sqlite_folder(url)
    database = Database(url)
    try:
        click.echo(schema.upgrade(database.engine))
    except schema.SchemaError as exc:
        _fail(str(exc))
    finally:
        database.close()


@db.command()
@click.argument("url")
def current(url: str) -> None:
    """Print the database's schema revision and whether trackd can serve it."""
    from trackd.store import schema
    from trackd.store.database import Database

    _using(url)
    database = Database(url)
    try:
        state = schema.inspect_schema(database.engine)
    finally:
        database.close()
    click.echo(f"{state.found or '(none)'} {state.kind} (trackd serves {schema.HEAD})")


@main.command()
@click.option("--backend-store-uri", help="Database to clean [env MLFLOW_BACKEND_STORE_URI].")
@click.option("--artifacts-destination", help="Store behind mlflow-artifacts:/ "
              "[env MLFLOW_ARTIFACTS_DESTINATION; default ./mlartifacts].")
@click.option("--default-artifact-root", help="The server's root for new experiments, to "
              "recognise the artifact folders it created [env MLFLOW_DEFAULT_ARTIFACT_ROOT].")
@click.option("--older-than", help="Only what was deleted more than this long ago, e.g. 30d, "
              "12h, 2d8h5m20s (default: everything deleted).")
@click.option("--experiment-ids", help="Comma-separated deleted experiments to remove (only).")
@click.option("--run-ids", help="Comma-separated deleted runs to remove (only).")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Runs or models per transaction.")
def gc(older_than: str | None, experiment_ids: str | None, run_ids: str | None,
       batch_size: int, **flags: Any) -> None:
    """Permanently delete deleted runs, experiments and logged models, with their artifacts."""
    import anyio

    from trackd.artifacts.registry import ArtifactRegistry
    from trackd.errors import MlflowError
    from trackd.service.gc import GarbageCollector, parse_duration
    from trackd.store import schema
    from trackd.store.database import Database

    try:
        settings = settings_from_env().with_overrides(serve_artifacts=True, **flags)
        older_ms = parse_duration(older_than) if older_than else 0
    except (ConfigError, MlflowError) as exc:
        _fail(str(exc))
        return
    _using(settings.backend_store_uri)
    database = Database(settings.backend_store_uri)
    try:
        state = schema.inspect_schema(database.engine)
        if state.kind != "current":
            _fail(f"gc works on MLflow {schema.MLFLOW_VERSION}'s schema ({schema.HEAD}); this "
                  f"database is {state.kind} ({state.found})")
        registry = ArtifactRegistry(settings)
        collector = GarbageCollector(database, registry, default_root=settings.artifact_root,
                                     batch_size=batch_size, echo=click.echo)

        async def collect() -> Any:
            try:
                return await collector.collect(
                    older_ms, experiment_ids=_id_list(experiment_ids), run_ids=_id_list(run_ids))
            finally:
                await registry.close()

        report = anyio.run(collect)
    except MlflowError as exc:
        _fail(exc.message)
        return
    finally:
        database.close()
    click.echo(f"gc: removed {report.runs} runs, {report.experiments} experiments, "
               f"{report.logged_models} logged models, {report.traces} traces")
    if report.artifact_errors:
        for problem in report.artifact_errors:
            click.echo(f"gc: {problem}", err=True)
        sys.exit(1)


def _id_list(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


@main.group("auth")
def auth_group() -> None:
    """The authentication database (MLflow basic-auth's; settings from MLFLOW_AUTH_CONFIG_PATH)."""


@auth_group.command("upgrade")
@click.option("--database-uri", help="Auth database [default: database_uri of the auth config].")
def auth_upgrade(database_uri: str | None) -> None:
    """Create MLflow 3.18's auth schema, or upgrade an older MLflow auth database in place."""
    from trackd.auth.config import read_auth_config
    from trackd.auth.migrate import upgrade_auth_database
    from trackd.store.database import Database

    try:
        url = database_uri or read_auth_config().database_uri
        _using(url, "the auth database")
        database = Database(url)
    except ConfigError as exc:
        _fail(str(exc))
        return
    try:
        click.echo(upgrade_auth_database(database.engine))
    except ConfigError as exc:
        _fail(str(exc))
    finally:
        database.close()
