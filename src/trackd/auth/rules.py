"""Who may call what: one permission rule per route, keyed like the route table.

A rule names the resource a request acts on, where to find its id in the request, and the
action it needs (read / update / delete / manage, as MLflow's basic-auth app assigns them).
Routes absent from this table are for admins only: a route added to ``api/routes.py`` without a
rule here fails closed, never open.

Paths are written after the version prefix; a rule applies under ``/api/2.0``, ``/ajax-api/2.0``,
``/api/3.0`` and ``/ajax-api/3.0`` alike, and an unprefixed path (``/get-artifact``) is written
with a leading ``!``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trackd.api.router import compile_path

# Targets: how the resource is found.
EXPERIMENT = "experiment"  # experiment_id field
EXPERIMENT_NAME = "experiment_name"  # experiment_name field, looked up
EXPERIMENTS = "experiments"  # experiment_ids list field: every one must pass
RUN = "run"  # run_id (or run_uuid) field, looked up to its experiment
RUNS = "runs"  # list of run ids (field named in `source`)
RUN_WRITE = "run_write"  # RUN, and UPDATE on each logged model the logged values name (model_id)
RUN_LINK_TRACES = "run_link_traces"  # RUN, and READ on each trace linked to it
LOGGED_MODEL = "logged_model"  # model_id path parameter, looked up to its experiment
MODEL = "registered_model"  # registered model `name` field
ARTIFACT = "artifact"  # proxied artifact path: its first segment is the experiment id
TRACE = "trace"  # a trace id, looked up to its experiment
ISSUE = "issue"  # issue_id path parameter, looked up to its experiment
LABEL_SCHEMA = "label_schema"  # schema_id field, looked up to its experiment
REVIEW_QUEUE = "review_queue"  # queue_id (or experiment_id + name): action is a mode of
# auth/review_queues.py, which adds the queue's owner and reviewers to the experiment's grant
TRACES = "traces"  # a list of trace ids (field named in `source`): every one must pass
TRACE_START = "trace_start"  # the experiment a new trace goes into
TRACES_SEARCH = "traces_search"  # experiment ids named by a trace search
OTLP = "otlp"  # the x-mlflow-experiment-id header
DATASET = "dataset"  # dataset_id path parameter: every experiment it is linked to must pass
DATASET_LINK = "dataset_link"  # DATASET (update), and UPDATE on each experiment added
SCORER_LIST = "scorer_list"  # experiment_id or experiment_ids: every one named must pass
SCORERS = "scorers"  # scorer_ids, each looked up to its experiment
PRESIGNED_UPLOAD = "presigned_upload"  # run_id or model_id
ASSESSMENT = "assessment"  # trace_id path parameter; the assessment tier decides (auth/tiers.py)
ASSESSMENT_CREATE = "assessment_create"  # experiment UPDATE or trace UPDATE, assessments not denied
TRACE_DELETE = "trace_delete"  # experiment_id; the trace and assessment tiers decide
SCORER = "scorer"  # experiment_id + name: the scorer's own grants decide (auth/tiers.py)
SCORER_WRITE = "scorer_write"  # experiment UPDATE, the scorer and its versions not denied
SCORER_INVOKE = "scorer_invoke"  # SCORER_WRITE's vetoes, plus traces (and assessments) not denied
AUTHENTICATED = "authenticated"  # any signed-in user (filtering may follow)
ADMIN = "admin"
PUBLIC = "public"

# Hooks run around the handler.
GRANT_EXPERIMENT = "grant_experiment"  # creator gets MANAGE on the new experiment
GRANT_MODEL = "grant_model"  # creator gets MANAGE on the new registered model
DROP_MODEL_GRANTS = "drop_model_grants"
RENAME_MODEL_GRANTS = "rename_model_grants"
FILTER_EXPERIMENTS = "filter_experiments"
FILTER_MODELS = "filter_models"
FILTER_VERSIONS = "filter_versions"
FILTER_REVIEW_QUEUES = "filter_review_queues"  # READ-only callers list the queues they review
QUEUE_NAME_NOT_USER = "queue_name_not_user"  # a CUSTOM queue may not take a username
GRANT_SCORER = "grant_scorer"  # who registers a scorer gets MANAGE on it
DROP_SCORER_GRANTS = "drop_scorer_grants"
WITHHOLD_ASSESSMENTS = "withhold_assessments"  # trace reads: drop what the assessment tier denies
SCOPE_EXPERIMENT_IDS = "scope_experiment_ids"  # runs/search, logged-models/search
CHECK_SOURCE = "check_source"  # a new model version's source must be readable (auth/sources.py)


@dataclass(frozen=True)
class Rule:
    target: str
    action: str = "read"
    source: str | None = None  # field or path-parameter name when not the target's usual one
    hook: str | None = None
    from_query: bool = False  # the id is in the query string even on a POST
    # The sub-resource tier (run, trace, logged_model) a grant on which decides this route
    # beside the experiment's (auth/tiers.py). On an EXPERIMENT rule it marks a create.
    tier: str | None = None


R, U, D, M = "read", "update", "delete", "manage"

_RULES: dict[tuple[str, str], Rule] = {}


def _add(methods: str, path: str, rule: Rule) -> None:
    for method in methods.split(","):
        _RULES[(method, path)] = rule


# Experiments
_add("POST", "/mlflow/experiments/create", Rule(AUTHENTICATED, hook=GRANT_EXPERIMENT))
_add("GET", "/mlflow/experiments/get", Rule(EXPERIMENT, R))
_add("GET", "/mlflow/experiments/get-by-name", Rule(EXPERIMENT_NAME, R))
_add("GET,POST", "/mlflow/experiments/search", Rule(AUTHENTICATED, hook=FILTER_EXPERIMENTS))
for _p in ("update", "set-experiment-tag", "delete-experiment-tag"):
    _add("POST", f"/mlflow/experiments/{_p}", Rule(EXPERIMENT, U))
for _p in ("delete", "restore"):
    _add("POST", f"/mlflow/experiments/{_p}", Rule(EXPERIMENT, D))
_add("POST", "/mlflow/experiments/search-datasets", Rule(EXPERIMENTS, R))

# Runs and metrics
_add("POST", "/mlflow/runs/create", Rule(EXPERIMENT, U, tier="run"))
_add("GET", "/mlflow/runs/get", Rule(RUN, R))
for _p in ("update", "set-tag", "delete-tag", "log-parameter", "log-model"):
    _add("POST", f"/mlflow/runs/{_p}", Rule(RUN, U))
# Metrics, inputs and outputs may name logged models (model_id): those are written too.
for _p in ("log-metric", "log-batch", "log-inputs", "outputs"):
    _add("POST", f"/mlflow/runs/{_p}", Rule(RUN_WRITE, U))
for _p in ("delete", "restore"):
    _add("POST", f"/mlflow/runs/{_p}", Rule(RUN, D))
_add("POST", "/mlflow/runs/search", Rule(AUTHENTICATED, hook=SCOPE_EXPERIMENT_IDS, tier="run"))
_add("POST", "/mlflow/runs/create-promptlab-run", Rule(EXPERIMENT, U, tier="run"))
_add("GET", "/mlflow/metrics/get-history", Rule(RUN, R))
_add("GET", "/mlflow/metrics/get-history-bulk", Rule(RUNS, R, source="run_id"))
_add("GET", "/mlflow/metrics/get-history-bulk-interval", Rule(RUNS, R, source="run_ids"))
_add("GET", "/mlflow/metrics/get-history-bulk", Rule(RUNS, R, source="run_id"))

# Logged models
_add("POST", "/mlflow/logged-models", Rule(EXPERIMENT, U, tier="logged_model"))
_add("POST", "/mlflow/logged-models/search",
     Rule(AUTHENTICATED, hook=SCOPE_EXPERIMENT_IDS, tier="logged_model"))
_add("GET", "/mlflow/logged-models/{model_id}", Rule(LOGGED_MODEL, R))
_add("PATCH", "/mlflow/logged-models/{model_id}", Rule(LOGGED_MODEL, U))
_add("DELETE", "/mlflow/logged-models/{model_id}", Rule(LOGGED_MODEL, D))
_add("PATCH", "/mlflow/logged-models/{model_id}/tags", Rule(LOGGED_MODEL, U))
_add("DELETE", "/mlflow/logged-models/{model_id}/tags/{tag_key}", Rule(LOGGED_MODEL, D))
_add("POST", "/mlflow/logged-models/{model_id}/params", Rule(LOGGED_MODEL, U))
_add("GET", "/mlflow/logged-models/{model_id}/artifacts/directories", Rule(LOGGED_MODEL, R))
_add("GET", "/mlflow/logged-models/{model_id}/artifacts/files", Rule(LOGGED_MODEL, R))

# Artifacts
_add("GET", "/mlflow-artifacts/artifacts", Rule(ARTIFACT, R, source="path", from_query=True))
_add("GET", "/mlflow-artifacts/artifacts/{artifact_path:path}", Rule(ARTIFACT, R))
_add("PUT", "/mlflow-artifacts/artifacts/{artifact_path:path}", Rule(ARTIFACT, U))
_add("DELETE", "/mlflow-artifacts/artifacts/{artifact_path:path}", Rule(ARTIFACT, D))
for _p in ("create", "complete", "abort"):
    _add("POST", f"/mlflow-artifacts/mpu/{_p}/{{artifact_path:path}}", Rule(ARTIFACT, U))
_add("GET", "/mlflow-artifacts/presigned/{artifact_path:path}", Rule(ARTIFACT, R))
_add("GET", "/mlflow/artifacts/list", Rule(RUN, R))
_add("POST", "/mlflow/artifacts/presigned-download-url", Rule(RUN, R))
_add("POST", "/mlflow/artifacts/presigned-upload-url", Rule(PRESIGNED_UPLOAD, U))
_add("POST", "/mlflow/upload-artifact", Rule(RUN, U, from_query=True))  # run_id or run_uuid
_add("GET", "!/get-artifact", Rule(RUN, R))
_add("GET", "!/model-versions/get-artifact", Rule(MODEL, R))

# Model registry
_add("POST", "/mlflow/registered-models/create", Rule(AUTHENTICATED, hook=GRANT_MODEL))
_add("GET", "/mlflow/registered-models/get", Rule(MODEL, R))
_add("GET,POST", "/mlflow/registered-models/get-latest-versions", Rule(MODEL, R))
_add("PATCH", "/mlflow/registered-models/update", Rule(MODEL, U))
_add("POST", "/mlflow/registered-models/set-tag", Rule(MODEL, U))
_add("DELETE", "/mlflow/registered-models/delete-tag", Rule(MODEL, U))
_add("DELETE", "/mlflow/registered-models/delete", Rule(MODEL, D, hook=DROP_MODEL_GRANTS))
_add("POST", "/mlflow/registered-models/rename", Rule(MODEL, U, hook=RENAME_MODEL_GRANTS))
_add("GET", "/mlflow/registered-models/alias", Rule(MODEL, R))
_add("POST,DELETE", "/mlflow/registered-models/alias", Rule(MODEL, U))
_add("GET", "/mlflow/registered-models/search", Rule(AUTHENTICATED, hook=FILTER_MODELS))
_add("POST", "/mlflow/model-versions/create", Rule(MODEL, U, hook=CHECK_SOURCE))
_add("GET", "/mlflow/model-versions/get", Rule(MODEL, R))
_add("GET", "/mlflow/model-versions/get-download-uri", Rule(MODEL, R))
_add("PATCH", "/mlflow/model-versions/update", Rule(MODEL, U))
_add("POST", "/mlflow/model-versions/transition-stage", Rule(MODEL, U))
_add("POST", "/mlflow/model-versions/set-tag", Rule(MODEL, U))
_add("DELETE", "/mlflow/model-versions/delete", Rule(MODEL, D))
_add("DELETE", "/mlflow/model-versions/delete-tag", Rule(MODEL, D))
_add("GET", "/mlflow/model-versions/search", Rule(AUTHENTICATED, hook=FILTER_VERSIONS))

# Webhooks: admins only, as in MLflow's basic-auth app (sender_is_admin on every webhook call).
_add("GET,POST", "/mlflow/webhooks", Rule(ADMIN))
_add("GET,PATCH,DELETE", "/mlflow/webhooks/{webhook_id}", Rule(ADMIN))
_add("POST", "/mlflow/webhooks/{webhook_id}/test", Rule(ADMIN))

# Traces (v2 and v3 share paths where they overlap)
_add("POST", "/mlflow/traces", Rule(TRACE_START, U, tier="trace"))
_add("GET", "/mlflow/traces", Rule(TRACES_SEARCH, R))
_add("POST", "/mlflow/traces/search", Rule(TRACES_SEARCH, R, hook=WITHHOLD_ASSESSMENTS))
_add("GET", "/mlflow/traces/get", Rule(TRACE, R, source="trace_id", hook=WITHHOLD_ASSESSMENTS))
_add("GET", "/mlflow/traces/batchGet",
     Rule(TRACES, R, source="trace_ids", hook=WITHHOLD_ASSESSMENTS))
_add("POST", "/mlflow/traces/batchGetInfos",
     Rule(TRACES, R, source="trace_ids", hook=WITHHOLD_ASSESSMENTS))
_add("GET", "/mlflow/traces/{trace_id}",
     Rule(TRACE, R, source="trace_id", hook=WITHHOLD_ASSESSMENTS))
_add("POST", "/mlflow/traces/metrics", Rule(TRACES_SEARCH, R))
_add("POST", "/mlflow/traces/calculate-filter-correlation", Rule(TRACES_SEARCH, R))
_add("PATCH", "/mlflow/traces/{trace_id}", Rule(TRACE, U, source="trace_id"))
_add("GET", "/mlflow/traces/{trace_id}/info", Rule(TRACE, R, source="trace_id"))
_add("PATCH,DELETE", "/mlflow/traces/{trace_id}/tags", Rule(TRACE, U, source="trace_id"))
_add("POST", "/mlflow/traces/{trace_id}/assessments", Rule(ASSESSMENT_CREATE, U))
_add("GET", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", Rule(ASSESSMENT, R))
_add("PATCH", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", Rule(ASSESSMENT, U))
_add("DELETE", "/mlflow/traces/{trace_id}/assessments/{assessment_id}", Rule(ASSESSMENT, D))
_add("GET", "/mlflow/get-trace-artifact", Rule(TRACE, R, source="request_id"))
_add("GET", "/trackd/traces/{trace_id}/span-outline", Rule(TRACE, R, source="trace_id"))
_add("GET", "/trackd/traces/{trace_id}/span", Rule(TRACE, R, source="trace_id"))
_add("POST", "/mlflow/traces/delete-traces", Rule(TRACE_DELETE, D))
_add("POST", "/mlflow/traces/link-to-run", Rule(RUN_LINK_TRACES, U))
_add("POST", "/mlflow/traces/link-prompts", Rule(TRACE, U))
# Databricks-only routes: every caller gets the same empty 404 (MLflow's auth has no rule).
_add("GET", "/mlflow/get-online-trace-details", Rule(AUTHENTICATED))
_add("GET", "/mlflow/unified-traces", Rule(AUTHENTICATED))
_add("GET", "!/v1/traces", Rule(OTLP, U, tier="trace"))
_add("POST", "!/v1/traces", Rule(OTLP, U, tier="trace"))

# Evaluation datasets belong to the experiments they are linked to (MLflow's validators): a
# dataset linked to none is admin-only; create and search must name experiments.
_add("POST", "/mlflow/datasets/create", Rule(EXPERIMENTS, U))
_add("GET,POST", "/mlflow/datasets/search", Rule(EXPERIMENTS, R))
_add("GET", "/mlflow/datasets/{dataset_id}", Rule(DATASET, R))
_add("DELETE", "/mlflow/datasets/{dataset_id}", Rule(DATASET, D))
_add("PATCH", "/mlflow/datasets/{dataset_id}/tags", Rule(DATASET, U))
_add("DELETE", "/mlflow/datasets/{dataset_id}/tags/{key}", Rule(DATASET, U))
_add("GET", "/mlflow/datasets/{dataset_id}/records", Rule(DATASET, R))
_add("POST,DELETE", "/mlflow/datasets/{dataset_id}/records", Rule(DATASET, U))
_add("GET", "/mlflow/datasets/{dataset_id}/experiment-ids", Rule(DATASET, R))
_add("POST", "/mlflow/datasets/{dataset_id}/add-experiments", Rule(DATASET_LINK, U))
_add("POST", "/mlflow/datasets/{dataset_id}/remove-experiments", Rule(DATASET, U))

# Scorers, as MLflow 3.18 decides them: registering or changing online scoring needs UPDATE on
# the experiment and no DENY on the scorer or its versions; reading and deleting one is
# decided by the scorer's own grants (`<experiment id>/<name>` or `*`, else the default),
# with a `scorer_version` grant deciding for its versions. Listing goes by the experiment;
# listing without naming one is for admins (MLflow filters the rows instead).
_add("POST", "/mlflow/scorers/register", Rule(SCORER_WRITE, U, hook=GRANT_SCORER))
_add("GET", "/mlflow/scorers/list", Rule(SCORER_LIST, R))
_add("GET", "/mlflow/scorers/versions", Rule(SCORER, R))
_add("GET", "/mlflow/scorers/get", Rule(SCORER, R))
_add("DELETE", "/mlflow/scorers/delete", Rule(SCORER, D, hook=DROP_SCORER_GRANTS))
_add("PUT", "/mlflow/scorers/online-config", Rule(SCORER_WRITE, U))
_add("GET", "/mlflow/scorers/online-configs", Rule(SCORERS, R, source="scorer_ids"))
_add("POST", "/mlflow/scorer/invoke", Rule(SCORER_INVOKE, U))
_add("POST", "/mlflow/genai/evaluate/invoke", Rule(EXPERIMENT, U))

# Review entities (MLflow 3.18): they hang off an experiment, READ to read, UPDATE to change.
# A search must name its experiment (MLflow denies one without); detection needs UPDATE.
_add("POST", "/mlflow/issues", Rule(EXPERIMENT, U))
_add("POST", "/mlflow/issues/search", Rule(EXPERIMENT, R))
_add("GET", "/mlflow/issues/{issue_id}", Rule(ISSUE, R))
_add("PATCH", "/mlflow/issues/{issue_id}", Rule(ISSUE, U))
_add("POST", "/mlflow/issues/invoke", Rule(EXPERIMENT, U))
_add("POST", "/mlflow/issues/schedule/state", Rule(EXPERIMENT, U))
# Label schemas: MLflow asks MANAGE to create, change or delete one, READ to see it.
_add("POST", "/mlflow/label-schemas/create", Rule(EXPERIMENT, M))
_add("GET", "/mlflow/label-schemas/get", Rule(LABEL_SCHEMA, R))
_add("GET", "/mlflow/label-schemas/get-by-name", Rule(EXPERIMENT, R))
_add("GET", "/mlflow/label-schemas/list", Rule(EXPERIMENT, R))
_add("PATCH", "/mlflow/label-schemas/update", Rule(LABEL_SCHEMA, M))
_add("DELETE", "/mlflow/label-schemas/delete", Rule(LABEL_SCHEMA, M))
_RQ = "/mlflow/review-queues"
_add("POST", f"{_RQ}/create", Rule(EXPERIMENT, U, hook=QUEUE_NAME_NOT_USER))
_add("POST", f"{_RQ}/get-or-create-user", Rule(EXPERIMENT, U))
_add("GET", f"{_RQ}/list", Rule(EXPERIMENT, R, hook=FILTER_REVIEW_QUEUES))
_add("GET", f"{_RQ}/get", Rule(REVIEW_QUEUE, "view"))
_add("GET", f"{_RQ}/get-by-name", Rule(REVIEW_QUEUE, "view"))
_add("GET", f"{_RQ}/items/list", Rule(REVIEW_QUEUE, "view"))
_add("POST", f"{_RQ}/update", Rule(REVIEW_QUEUE, "shape", hook=QUEUE_NAME_NOT_USER))
_add("POST", f"{_RQ}/delete", Rule(REVIEW_QUEUE, "prune"))
_add("POST", f"{_RQ}/items/remove", Rule(REVIEW_QUEUE, "prune"))
_add("POST", f"{_RQ}/items/add", Rule(REVIEW_QUEUE, "add"))
_add("POST", f"{_RQ}/items/set-status", Rule(REVIEW_QUEUE, "review"))

# The server itself
_add("GET", "/mlflow/server-info", Rule(PUBLIC))
# It names routes, never data: any signed-in user may read it, nobody without credentials.
_add("GET", "!/openapi.json", Rule(AUTHENTICATED))
# MLflow's web UI asks whether to send usage events (trackd says no) and may send some anyway.
_add("GET,POST", "/mlflow/ui-telemetry", Rule(AUTHENTICATED))
_add("GET,POST", "/mlflow/gateway-proxy", Rule(AUTHENTICATED))  # always empty: no gateway
# One query can name many objects: the resolvers check each one (trackd/graphql/access.py).
_add("GET,POST", "!/graphql", Rule(AUTHENTICATED))

# Web UI pages that render data on the server (the registry pages are shells that fetch the
# API from the browser, so they only need a signed-in user).
# The list filters itself to readable experiments (web/data.py, AuthService.readable).
_add("GET", "!/experiments", Rule(AUTHENTICATED))
_add("GET", "!/experiments/{experiment_id}", Rule(EXPERIMENT, R))
_add("GET", "!/runs/{run_id}", Rule(RUN, R))
_add("GET", "!/compare", Rule(RUNS, R, source="runs"))
# Trace pages are shells that read the API from the browser (checked there, per request); the
# traces page still names its experiment, so it needs READ on it.
_add("GET", "!/experiments/{experiment_id}/traces", Rule(EXPERIMENT, R))
_add("GET", "!/traces/{trace_id}", Rule(TRACE, R, source="trace_id"))
_add("GET", "!/logged-models/{model_id}", Rule(LOGGED_MODEL, R))

_VERSION_PREFIX = re.compile(r"^/(?:api|ajax-api)/[23]\.0(?=/)")
_EXACT = {key: rule for key, rule in _RULES.items() if "{" not in key[1]}
# Longer literal prefixes first, so '/x/{id}/tags' wins over '/x/{id}'.
_PATTERNS = sorted(
    ((method, compile_path(path), rule) for (method, path), rule in _RULES.items() if "{" in path),
    key=lambda item: -len(item[1].pattern.split("(?P")[0]),
)


def find_rule(method: str, path: str) -> tuple[Rule, dict[str, str]] | None:
    """The rule for a request, with its path parameters; None means admins only."""
    method = "GET" if method == "HEAD" else method
    match = _VERSION_PREFIX.match(path)
    # Pages answer with or without a trailing slash; so must their rules.
    key = path[match.end():] if match else "!" + (path.rstrip("/") or "/")
    rule = _EXACT.get((method, key))
    if rule is not None:
        return rule, {}
    for rule_method, pattern, rule in _PATTERNS:
        if rule_method == method and (m := pattern.match(key)):
            return rule, m.groupdict()
    return None


def is_api_path(path: str) -> bool:
    return _VERSION_PREFIX.match(path) is not None
