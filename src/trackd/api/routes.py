"""The one route table: every MLflow endpoint trackd serves, and where it is mounted.

Paths are written after the version prefix. Each tracking and registry route is served under
``/api/2.0`` (the Python client) and ``/ajax-api/2.0`` (web UIs); a few MLflow 3 routes live
under ``3.0`` instead.
"""

from __future__ import annotations

from trackd.api.router import Handler, HandlerModule, Lazy, Route

# Handler modules by name: each is imported when one of its routes is first requested (see
# router.Lazy), so start-up imports none of them, nor the services and stores behind them.
transfers = HandlerModule("artifact_transfers")
artifacts = HandlerModule("artifacts")
assessments = HandlerModule("assessments")
datasets = HandlerModule("datasets")
experiments = HandlerModule("experiments")
graphql = HandlerModule("graphql")
issues = HandlerModule("issues")
label_schemas = HandlerModule("label_schemas")
logged_models = HandlerModule("logged_models")
metrics = HandlerModule("metrics")
misc = HandlerModule("misc")
review_queues = HandlerModule("review_queues")
runs = HandlerModule("runs")
scorers = HandlerModule("scorers")
span_outline = HandlerModule("span_outline")
trace_metrics = HandlerModule("trace_metrics")
traces = HandlerModule("traces")
traces_v2 = HandlerModule("traces_v2")
webhooks = HandlerModule("webhooks")
mv = HandlerModule("model_versions")
rm = HandlerModule("registered_models")

# (method, path after the version prefix, handler)
TRACKING_V2: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/experiments/create", experiments.create),
    ("GET", "/mlflow/experiments/get", experiments.get),
    ("GET", "/mlflow/experiments/get-by-name", experiments.get_by_name),
    ("POST", "/mlflow/experiments/search", experiments.search),
    ("GET", "/mlflow/experiments/search", experiments.search),
    ("POST", "/mlflow/experiments/update", experiments.update),
    ("POST", "/mlflow/experiments/delete", experiments.delete),
    ("POST", "/mlflow/experiments/restore", experiments.restore),
    ("POST", "/mlflow/experiments/set-experiment-tag", experiments.set_tag),
    ("POST", "/mlflow/experiments/delete-experiment-tag", experiments.delete_tag),
    ("POST", "/mlflow/experiments/search-datasets", experiments.search_datasets),
    ("POST", "/mlflow/runs/create", runs.create),
    ("GET", "/mlflow/runs/get", runs.get),
    ("POST", "/mlflow/runs/update", runs.update),
    ("POST", "/mlflow/runs/search", runs.search),
    ("POST", "/mlflow/runs/delete", runs.delete),
    ("POST", "/mlflow/runs/restore", runs.restore),
    ("POST", "/mlflow/runs/set-tag", runs.set_tag),
    ("POST", "/mlflow/runs/delete-tag", runs.delete_tag),
    ("POST", "/mlflow/runs/log-parameter", runs.log_param),
    ("POST", "/mlflow/runs/log-metric", runs.log_metric),
    ("POST", "/mlflow/runs/log-batch", runs.log_batch),
    ("POST", "/mlflow/runs/outputs", runs.log_outputs),
    ("POST", "/mlflow/runs/log-inputs", runs.log_inputs),
    ("GET", "/mlflow/metrics/get-history", metrics.get_history),
    ("GET", "/mlflow/metrics/get-history-bulk-interval", metrics.get_history_bulk_interval),
    ("POST", "/mlflow/runs/log-model", logged_models.log_run_model),
]

# MLflow 3 logged models, and artifacts through the tracking API and the proxy.
MODELS_ARTIFACTS_V2: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/logged-models", logged_models.create),
    ("POST", "/mlflow/logged-models/search", logged_models.search),
    ("GET", "/mlflow/logged-models/{model_id}", logged_models.get),
    ("PATCH", "/mlflow/logged-models/{model_id}", logged_models.finalize),
    ("DELETE", "/mlflow/logged-models/{model_id}", logged_models.delete),
    ("PATCH", "/mlflow/logged-models/{model_id}/tags", logged_models.set_tags),
    ("DELETE", "/mlflow/logged-models/{model_id}/tags/{tag_key}", logged_models.delete_tag),
    ("POST", "/mlflow/logged-models/{model_id}/params", logged_models.log_params),
    ("GET", "/mlflow/logged-models/{model_id}/artifacts/directories",
     artifacts.list_model_artifacts),
    ("GET", "/mlflow/logged-models/{model_id}/artifacts/files", artifacts.get_model_artifact),
    ("GET", "/mlflow/artifacts/list", artifacts.list_run_artifacts),
    ("POST", "/mlflow/artifacts/presigned-download-url", transfers.presigned_download_url),
    ("POST", "/mlflow/artifacts/presigned-upload-url", transfers.presigned_upload_url),
    ("GET", "/mlflow-artifacts/artifacts", artifacts.proxied_list),
    ("GET", "/mlflow-artifacts/artifacts/{artifact_path:path}", artifacts.proxied_download),
    ("PUT", "/mlflow-artifacts/artifacts/{artifact_path:path}", artifacts.proxied_upload),
    ("DELETE", "/mlflow-artifacts/artifacts/{artifact_path:path}", artifacts.proxied_delete),
    ("POST", "/mlflow-artifacts/mpu/create/{artifact_path:path}", artifacts.mpu_create),
    ("POST", "/mlflow-artifacts/mpu/complete/{artifact_path:path}", artifacts.mpu_complete),
    ("POST", "/mlflow-artifacts/mpu/abort/{artifact_path:path}", artifacts.mpu_abort),
    ("GET", "/mlflow-artifacts/presigned/{artifact_path:path}", artifacts.presigned_download),
]

# Routes without a version prefix (only the static prefix applies): downloads for web UIs, and
# the OpenAPI document describing every route here (api/openapi/).
UNPREFIXED: list[tuple[str, str, Handler | Lazy]] = [
    ("GET", "/get-artifact", artifacts.get_artifact),
    ("GET", "/model-versions/get-artifact", mv.get_artifact),
    ("GET", "/openapi.json", misc.openapi),
    ("POST", "/v1/traces", traces.otlp_ingest),
    ("GET", "/graphql", graphql.graphql),
    ("POST", "/graphql", graphql.graphql),
]

# Routes MLflow serves under /ajax-api only: calls of its web UI, not of its clients.
AJAX_V2: list[tuple[str, str, Handler | Lazy]] = [
    ("GET", "/mlflow/metrics/get-history-bulk", metrics.get_history_bulk),
    ("GET", "/mlflow/gateway-proxy", misc.gateway_proxy),
    ("POST", "/mlflow/gateway-proxy", misc.gateway_proxy),
    ("POST", "/mlflow/upload-artifact", transfers.upload_artifact),
]
AJAX_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("GET", "/mlflow/ui-telemetry", misc.ui_telemetry_config),
    ("POST", "/mlflow/ui-telemetry", misc.ui_telemetry_records),
    # trackd's own, for its trace page: a trace's span tree without the spans' payloads, and
    # one span's payload (MLflow has no such routes; its clients never call these).
    ("GET", "/trackd/traces/{trace_id}/span-outline", span_outline.outline),
    ("GET", "/trackd/traces/{trace_id}/span", span_outline.span),
]


# Model registry (MLflow 3.18 serves all of these under /api/2.0 and /ajax-api/2.0).
REGISTRY_V2: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/registered-models/create", rm.create),
    ("GET", "/mlflow/registered-models/get", rm.get),
    ("POST", "/mlflow/registered-models/rename", rm.rename),
    ("PATCH", "/mlflow/registered-models/update", rm.update),
    ("DELETE", "/mlflow/registered-models/delete", rm.delete),
    ("GET", "/mlflow/registered-models/search", rm.search),
    ("POST", "/mlflow/registered-models/set-tag", rm.set_tag),
    ("DELETE", "/mlflow/registered-models/delete-tag", rm.delete_tag),
    ("POST", "/mlflow/registered-models/get-latest-versions", rm.get_latest_versions),
    ("GET", "/mlflow/registered-models/get-latest-versions", rm.get_latest_versions),
    ("POST", "/mlflow/registered-models/alias", rm.set_alias),
    ("DELETE", "/mlflow/registered-models/alias", rm.delete_alias),
    ("GET", "/mlflow/registered-models/alias", rm.get_by_alias),
    ("POST", "/mlflow/model-versions/create", mv.create),
    ("GET", "/mlflow/model-versions/get", mv.get),
    ("PATCH", "/mlflow/model-versions/update", mv.update),
    ("DELETE", "/mlflow/model-versions/delete", mv.delete),
    ("GET", "/mlflow/model-versions/search", mv.search),
    ("POST", "/mlflow/model-versions/set-tag", mv.set_tag),
    ("DELETE", "/mlflow/model-versions/delete-tag", mv.delete_tag),
    ("POST", "/mlflow/model-versions/transition-stage", mv.transition_stage),
    ("GET", "/mlflow/model-versions/get-download-uri", mv.get_download_uri),
]

# Registry webhooks (MLflow 3.18; admins only when auth is on).
WEBHOOKS_V2: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/webhooks", webhooks.create),
    ("GET", "/mlflow/webhooks", webhooks.list_webhooks),
    ("GET", "/mlflow/webhooks/{webhook_id}", webhooks.get),
    ("PATCH", "/mlflow/webhooks/{webhook_id}", webhooks.update),
    ("DELETE", "/mlflow/webhooks/{webhook_id}", webhooks.delete),
    ("POST", "/mlflow/webhooks/{webhook_id}/test", webhooks.test),
]

SERVER_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("GET", "/mlflow/server-info", misc.server_info),
]


# Traces (MLflow 3). Tags, deletion and span data are served under 2.0 and 3.0, as MLflow does.
TRACE_TAGS_AND_DELETION: list[tuple[str, str, Handler | Lazy]] = [
    ("GET", "/mlflow/get-trace-artifact", traces.get_trace_artifact),
    ("PATCH", "/mlflow/traces/{trace_id}/tags", traces.set_tag),
    ("DELETE", "/mlflow/traces/{trace_id}/tags", traces.delete_tag),
    ("POST", "/mlflow/traces/delete-traces", traces.delete_traces),
]
TRACES_V2: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/traces/link-to-run", traces.link_to_run),
    ("POST", "/mlflow/traces/link-prompts", traces.link_prompts),
    # MLflow's deprecated v2 trace API, what mlflow-skinny 2.x clients trace with.
    ("POST", "/mlflow/traces", traces_v2.start),
    ("GET", "/mlflow/traces", traces_v2.search),
    ("PATCH", "/mlflow/traces/{request_id}", traces_v2.end),
    ("GET", "/mlflow/traces/{request_id}/info", traces_v2.get_info),
    # Databricks-only (inference tables, SQL warehouses): mlflow server's empty 404.
    ("GET", "/mlflow/get-online-trace-details", traces_v2.databricks_only),
    ("GET", "/mlflow/unified-traces", traces_v2.databricks_only),
]
TRACES_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/traces/batchGetInfos", traces.batch_get_infos),
    ("POST", "/mlflow/traces", traces.start),
    ("POST", "/mlflow/traces/search", traces.search),
    ("POST", "/mlflow/traces/metrics", trace_metrics.query),
    ("POST", "/mlflow/traces/calculate-filter-correlation", trace_metrics.correlate),
    ("GET", "/mlflow/traces/get", traces.get),
    ("GET", "/mlflow/traces/batchGet", traces.batch_get),
    ("GET", "/mlflow/traces/{trace_id}", traces.get_info),
    *TRACE_TAGS_AND_DELETION,
    ("POST", "/mlflow/traces/{trace_id}/assessments", assessments.create),
    ("GET", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", assessments.get),
    ("PATCH", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", assessments.update),
    ("DELETE", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", assessments.delete),
]

# Evaluation datasets (MLflow 3 GenAI), under 3.0 only as MLflow serves them.
DATASETS_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/datasets/create", datasets.create),
    ("POST", "/mlflow/datasets/search", datasets.search),
    ("GET", "/mlflow/datasets/search", datasets.search),
    ("GET", "/mlflow/datasets/{dataset_id}", datasets.get),
    ("DELETE", "/mlflow/datasets/{dataset_id}", datasets.delete),
    ("PATCH", "/mlflow/datasets/{dataset_id}/tags", datasets.set_tags),
    ("DELETE", "/mlflow/datasets/{dataset_id}/tags/{key}", datasets.delete_tag),
    ("POST", "/mlflow/datasets/{dataset_id}/records", datasets.upsert_records),
    ("GET", "/mlflow/datasets/{dataset_id}/records", datasets.get_records),
    ("DELETE", "/mlflow/datasets/{dataset_id}/records", datasets.delete_records),
    ("GET", "/mlflow/datasets/{dataset_id}/experiment-ids", datasets.experiment_ids),
    ("POST", "/mlflow/datasets/{dataset_id}/add-experiments", datasets.add_experiments),
    ("POST", "/mlflow/datasets/{dataset_id}/remove-experiments", datasets.remove_experiments),
]

# Registered scorers (MLflow 3 GenAI) and their online-scoring settings.
SCORERS_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/scorers/register", scorers.register),
    ("GET", "/mlflow/scorers/list", scorers.list_scorers),
    ("GET", "/mlflow/scorers/versions", scorers.versions),
    ("GET", "/mlflow/scorers/get", scorers.get),
    ("DELETE", "/mlflow/scorers/delete", scorers.delete),
    ("PUT", "/mlflow/scorers/online-config", scorers.set_online_config),
    ("GET", "/mlflow/scorers/online-configs", scorers.online_configs),
]
# Served by MLflow to its web UI only (/ajax-api/3.0): both run model providers, which trackd
# does not (they answer NOT_IMPLEMENTED).
GENAI_AJAX_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/scorer/invoke", scorers.invoke_scorer),
    ("POST", "/mlflow/genai/evaluate/invoke", scorers.invoke_evaluate),
]

# Review entities (MLflow 3.18): issues, label schemas, review queues.
REVIEW_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/issues", issues.create),
    ("POST", "/mlflow/issues/search", issues.search),
    ("GET", "/mlflow/issues/{issue_id}", issues.get),
    ("PATCH", "/mlflow/issues/{issue_id}", issues.update),
    ("POST", "/mlflow/label-schemas/create", label_schemas.create),
    ("DELETE", "/mlflow/label-schemas/delete", label_schemas.delete),
    ("GET", "/mlflow/label-schemas/get", label_schemas.get),
    ("GET", "/mlflow/label-schemas/get-by-name", label_schemas.get_by_name),
    ("GET", "/mlflow/label-schemas/list", label_schemas.list_schemas),
    ("PATCH", "/mlflow/label-schemas/update", label_schemas.update),
    ("POST", "/mlflow/review-queues/create", review_queues.create),
    ("POST", "/mlflow/review-queues/delete", review_queues.delete),
    ("GET", "/mlflow/review-queues/get", review_queues.get),
    ("GET", "/mlflow/review-queues/get-by-name", review_queues.get_by_name),
    ("POST", "/mlflow/review-queues/get-or-create-user", review_queues.get_or_create_user),
    ("POST", "/mlflow/review-queues/items/add", review_queues.add_items),
    ("GET", "/mlflow/review-queues/items/list", review_queues.list_items),
    ("POST", "/mlflow/review-queues/items/remove", review_queues.remove_items),
    ("POST", "/mlflow/review-queues/items/set-status", review_queues.set_item_status),
    ("GET", "/mlflow/review-queues/list", review_queues.list_queues),
    ("POST", "/mlflow/review-queues/update", review_queues.update),
]
# MLflow serves its issue-detection job routes under /ajax-api/3.0 only.
REVIEW_AJAX_V3: list[tuple[str, str, Handler | Lazy]] = [
    ("POST", "/mlflow/issues/invoke", issues.detection_unavailable),
    ("POST", "/mlflow/issues/schedule/state", issues.detection_unavailable),
]


def api_routes() -> list[Route]:
    routes: list[Route] = []
    tables = ((TRACKING_V2, "2.0"), (REGISTRY_V2, "2.0"), (MODELS_ARTIFACTS_V2, "2.0"),
              (SERVER_V3, "3.0"), (TRACE_TAGS_AND_DELETION, "2.0"), (TRACES_V2, "2.0"),
              (TRACES_V3, "3.0"), (WEBHOOKS_V2, "2.0"), (DATASETS_V3, "3.0"),
              (SCORERS_V3, "3.0"), (REVIEW_V3, "3.0"))
    for table, version in tables:
        for prefix in (f"/api/{version}", f"/ajax-api/{version}"):
            routes.extend(Route(method, prefix + path, handler) for method, path, handler in table)
    for table, version in ((AJAX_V2, "2.0"), (AJAX_V3, "3.0"), (GENAI_AJAX_V3, "3.0"),
                           (REVIEW_AJAX_V3, "3.0")):
        routes.extend(Route(method, f"/ajax-api/{version}" + path, handler)
                      for method, path, handler in table)
    routes.extend(Route(method, path, handler) for method, path, handler in UNPREFIXED)
    return routes
