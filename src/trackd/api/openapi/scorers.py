"""Registered scorer operations (MLflow 3 GenAI; api/scorers.py). A serialized scorer is the
client's JSON text, stored and never run; the two invoke routes answer 501."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    DOUBLE,
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    message,
)

_SCORER = message(
    experiment_id=INT64, scorer_name=STRING, scorer_version=INT64, serialized_scorer=STRING,
    creation_time=INT64, scorer_id=STRING,
)
_NAMED = message(("experiment_id", "name"), experiment_id=NAME, name=NAME)
_CONFIG = message(online_scoring_config_id=STRING, scorer_id=STRING, sample_rate=DOUBLE,
                  experiment_id=STRING, filter_string=STRING)

OPERATIONS: Operations = {
    ("POST", "/mlflow/scorers/register"): Operation(
        "Register a scorer (a new version when the name exists)",
        message(("experiment_id", "name", "serialized_scorer"), experiment_id=NAME, name=NAME,
                serialized_scorer=NAME),
        message(version=INT64, scorer_id=STRING, experiment_id=STRING, name=STRING,
                serialized_scorer=STRING, creation_time=INT64),
        errors=(400, 404, 501),
    ),
    ("GET", "/mlflow/scorers/list"): Operation(
        "The latest version of each scorer of an experiment (or of several, or of all)",
        message(experiment_id=STRING, experiment_ids=array(STRING)),
        message(scorers=array(_SCORER)),
    ),
    ("GET", "/mlflow/scorers/versions"): Operation(
        "Every version of one scorer", _NAMED, message(scorers=array(_SCORER))),
    ("GET", "/mlflow/scorers/get"): Operation(
        "One version of a scorer (the latest by default)",
        message(("experiment_id", "name"), experiment_id=NAME, name=NAME, version=INT64),
        message(("scorer",), scorer=_SCORER),
    ),
    ("DELETE", "/mlflow/scorers/delete"): Operation(
        "Delete one version, or the scorer with every version",
        message(("experiment_id", "name"), experiment_id=NAME, name=NAME, version=INT64),
    ),
    ("PUT", "/mlflow/scorers/online-config"): Operation(
        "Set a scorer's online scoring (sample rate above 0 needs a gateway judge)",
        message(("experiment_id", "name", "sample_rate"), experiment_id=NAME, name=NAME,
                sample_rate=DOUBLE, filter_string=STRING),
        message(("config",), config=_CONFIG),
    ),
    ("GET", "/mlflow/scorers/online-configs"): Operation(
        "The online scoring settings of scorers",
        message(("scorer_ids",), scorer_ids=array(STRING)), message(configs=array(_CONFIG)),
    ),
    ("POST", "/mlflow/scorer/invoke"): Operation(
        "Run a scorer on traces: not served (501; it calls model providers)",
        errors=(501,),
    ),
    ("POST", "/mlflow/genai/evaluate/invoke"): Operation(
        "Server-side evaluation: not served (501; it calls model providers)",
        errors=(501,),
    ),
}
