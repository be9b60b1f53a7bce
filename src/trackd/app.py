"""create_app(settings): the one place where trackd's parts are wired together."""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from trackd import MLFLOW_COMPAT_VERSION
from trackd.api.router import Router
from trackd.api.routes import api_routes
from trackd.artifacts.registry import ArtifactRegistry
from trackd.artifacts.startup import check_artifact_locations
from trackd.config import Settings
from trackd.service.experiments import ExperimentService
from trackd.service.webhook_config import SecretBox, WebhookSettings
from trackd.service.webhook_events import WebhookDispatcher
from trackd.store import schema
from trackd.store.database import Database
from trackd.store.urls import redact
from trackd.web.pages import is_mlflow_ui_path, is_page

if TYPE_CHECKING:
    from trackd.service.artifact_transfers import ArtifactTransferService
    from trackd.service.artifacts import ArtifactService
    from trackd.service.assessments import AssessmentService
    from trackd.service.dataset_records import DatasetRecordService
    from trackd.service.datasets import DatasetService
    from trackd.service.issues import IssueService
    from trackd.service.label_schemas import LabelSchemaService
    from trackd.service.logged_models import LoggedModelService
    from trackd.service.metrics import MetricService
    from trackd.service.model_versions import ModelVersionService
    from trackd.service.registered_models import RegisteredModelService
    from trackd.service.review_queues import ReviewQueueService
    from trackd.service.runs import RunService
    from trackd.service.scorers import ScorerService
    from trackd.service.span_outline import SpanOutlineService
    from trackd.service.spans import SpanIngestService
    from trackd.service.trace_metrics import TraceMetricsService
    from trackd.service.traces import TraceService
    from trackd.service.traces_v2 import TraceV2Service
    from trackd.service.webhooks import WebhookService

log = logging.getLogger("trackd")


def _db(s: Services) -> tuple[Any, ...]:
    return (s.db,)


# Service name -> (module under trackd.service, class, its arguments). Built on first use.
_LAZY: dict[str, tuple[str, str, Callable[[Services], tuple[Any, ...]]]] = {
    "runs": ("runs", "RunService", lambda s: (s.db, s.settings)),
    "metrics": ("metrics", "MetricService", _db),
    "registered_models": ("registered_models", "RegisteredModelService",
                          lambda s: (s.db, s.dispatcher)),
    "model_versions": ("model_versions", "ModelVersionService",
                       lambda s: (s.db, s.settings, s.dispatcher)),
    "logged_models": ("logged_models", "LoggedModelService",
                      lambda s: (s.db, s.settings, s.runs)),
    "artifacts": ("artifacts", "ArtifactService", lambda s: (s.db, s.registry)),
    "artifact_transfers": ("artifact_transfers", "ArtifactTransferService",
                           lambda s: (s.artifacts,)),
    "traces": ("traces", "TraceService", _db),
    "traces_v2": ("traces_v2", "TraceV2Service", lambda s: (s.db, s.traces)),
    "spans": ("spans", "SpanIngestService", _db),
    "span_outline": ("span_outline", "SpanOutlineService", lambda s: (s.db, s.artifacts)),
    "assessments": ("assessments", "AssessmentService", _db),
    "webhooks": ("webhooks", "WebhookService", lambda s: (s.db, s.hook_settings, s.box)),
    "datasets": ("datasets", "DatasetService", _db),
    "dataset_records": ("dataset_records", "DatasetRecordService", _db),
    "scorers": ("scorers", "ScorerService", _db),
    "issues": ("issues", "IssueService", _db),
    "label_schemas": ("label_schemas", "LabelSchemaService", _db),
    "trace_metrics": ("trace_metrics", "TraceMetricsService", _db),
    "review_queues": ("review_queues", "ReviewQueueService", _db),
}


class Services:
    """Everything a handler may call, one per process.

    Only what start-up needs is built here; each other service (and its module, and the store
    modules behind it) on its first use, through ``__getattr__``. The service is then stored as
    an ordinary attribute, so ``__getattr__`` runs once per service, never on later requests.
    """

    settings: Settings
    db: Database
    registry: ArtifactRegistry
    experiments: ExperimentService
    hook_settings: WebhookSettings
    box: SecretBox
    dispatcher: WebhookDispatcher
    extra: dict[str, Any]
    runs: RunService
    metrics: MetricService
    registered_models: RegisteredModelService
    model_versions: ModelVersionService
    logged_models: LoggedModelService
    artifacts: ArtifactService
    artifact_transfers: ArtifactTransferService
    traces: TraceService
    traces_v2: TraceV2Service
    spans: SpanIngestService
    span_outline: SpanOutlineService
    assessments: AssessmentService
    webhooks: WebhookService
    datasets: DatasetService
    dataset_records: DatasetRecordService
    scorers: ScorerService
    issues: IssueService
    label_schemas: LabelSchemaService
    trace_metrics: TraceMetricsService
    review_queues: ReviewQueueService

    def __init__(self, settings: Settings, db: Database, registry: ArtifactRegistry,
                 experiments: ExperimentService, hook_settings: WebhookSettings, box: SecretBox,
                 dispatcher: WebhookDispatcher) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        self.experiments = experiments
        self.hook_settings = hook_settings
        self.box = box
        self.dispatcher = dispatcher
        self.extra = {"webhook_dispatcher": dispatcher}
        # Handlers may first touch a service from a worker thread: one build per service.
        # Reentrant: a service built from another lazy one (artifact transfers from
        # artifacts, logged models from runs) takes the lock again on the same thread.
        self._building = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        recipe = _LAZY.get(name)
        if recipe is None:
            raise AttributeError(name)
        with self._building:
            if name in self.__dict__:  # another thread built it meanwhile
                return self.__dict__[name]
            module, cls, arguments = recipe
            service = getattr(importlib.import_module(f"trackd.service.{module}"), cls)(
                *arguments(self))
            setattr(self, name, service)
            return service


def open_database(settings: Settings) -> Database:
    """Open the backend store, creating MLflow's schema on an empty database.

    An older MLflow schema raises :class:`schema.SchemaError` (the CLI prints it and exits);
    a newer, unknown one is served read-only, because writing to tables whose meaning may
    have changed could corrupt someone's history.
    """
    db = Database(settings.backend_store_uri)
    try:
        # On an empty database: MLflow's schema, and trackd's search indexes at once (an
        # existing database gets those only through an explicit `trackd db upgrade`).
        state, created = schema.open_schema(db.engine)
        if created:
            log.info("created MLflow's schema (revision %s) in %s", schema.HEAD,
                     redact(db.url))
        elif state.kind == "older":
            raise schema.SchemaError(schema.outdated_message(state, settings.backend_store_uri))
        elif state.kind == "newer":
            db.read_only = True
            db.read_only_reason = (
                f"its schema revision {state.found} is newer than the {schema.HEAD} this trackd "
                "knows; upgrade trackd to write to it"
            )
            log.warning("serving %s READ-ONLY: %s", redact(db.url), db.read_only_reason)
    except BaseException:
        db.close()
        raise
    return db


def build_services(settings: Settings, db: Database) -> Services:
    registry = ArtifactRegistry(settings)
    experiments = ExperimentService(db, settings.artifact_root, registry.check_servable)
    if not db.read_only:
        experiments.ensure_default_experiment()
    # Webhooks read MLflow's own MLFLOW_WEBHOOK_* variables, so one environment serves both.
    hook_settings = WebhookSettings.from_env(os.environ)
    box = SecretBox(hook_settings.encryption_key)
    dispatcher = WebhookDispatcher(db, hook_settings, box)
    return Services(settings, db, registry, experiments, hook_settings, box, dispatcher)


class TrackdApp:
    """The ASGI app: static prefix, plain endpoints, then the API router."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings
        self.services = services
        self.prefix = settings.static_prefix
        self.router = Router(api_routes(), services)
        self._web: Any = None  # trackd.web.ui.WebUI, made on the first page request
        # `--mlflow-ui`: MLflow's React UI at / and /static-files/ (trackd.web.mlflow_ui).
        self.mlflow_ui: Any = None
        if settings.mlflow_ui:
            from trackd.web.mlflow_ui import MlflowUI, locate_build

            self.mlflow_ui = MlflowUI(locate_build())
        # Production layers (metrics, auth: trackd.observability.install) wrap `dispatch`.
        self.entry: Any = self.dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.entry(scope, receive, send)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if self.prefix:
            if not (path == self.prefix or path.startswith(self.prefix + "/")):
                await PlainTextResponse("Not Found", 404)(scope, receive, send)
                return
            path = path[len(self.prefix) :] or "/"
            scope = {**scope, "path": path, "root_path": scope.get("root_path", "") + self.prefix}
        if path == "/health":
            await PlainTextResponse("OK")(scope, receive, send)
        elif path == "/version":
            await PlainTextResponse(MLFLOW_COMPAT_VERSION)(scope, receive, send)
        elif self.mlflow_ui is not None and is_mlflow_ui_path(path):
            await self.mlflow_ui(scope, receive, send)
        elif is_page(path):
            await self._web_ui()(scope, receive, send)
        else:
            await self.router(scope, receive, send)

    def _web_ui(self) -> Any:
        # The UI (templates, jinja2, markdown) loads when a page is first asked for: a server
        # that only serves the API never pays for it, and start-up is that much shorter.
        if self._web is None:
            from trackd.web.ui import WebUI

            self._web = WebUI(self.services)
        return self._web

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.services.registry.close()
                self.services.extra["webhook_dispatcher"].close()
                self.services.db.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(settings: Settings) -> TrackdApp:
    # Before the database: an artifact store that cannot work (hdfs:// without libhdfs...)
    # stops the server with a message saying what is missing (ConfigError, printed by the CLI).
    check_artifact_locations(settings)
    if settings.mlflow_ui:  # an absent mlflow package stops the server before any file is made
        from trackd.web.mlflow_ui import locate_build

        locate_build()
    db = open_database(settings)
    try:
        services = build_services(settings, db)
        app = TrackdApp(settings, services)
        from trackd.observability import install

        install(app)
    except BaseException:
        db.close()
        raise
    return app
