"""MLflow 3.18's trace tables, for querying (the DDL lives in trackd.migrations.baseline).

Facts worth knowing:
- ``trace_info.request_id`` is the trace id (``tr-<32 hex>``); ``status`` holds the v3 state
  (``OK``, ``ERROR``, ``IN_PROGRESS``, ``STATE_UNSPECIFIED``).
- MLflow keeps a few values in columns rather than rows: the trace name (tag
  ``mlflow.traceName``) in ``trace_name``; the session (metadata ``mlflow.trace.session``) in
  ``session_id``; token usage and cost (metadata ``mlflow.trace.tokenUsage`` /
  ``mlflow.trace.cost``, JSON objects) in the token and cost columns. A reader adds them back.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)

from ._common import DOUBLE, metadata

trace_info = Table(
    "trace_info",
    metadata,
    Column("request_id", String(50), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("execution_time_ms", BigInteger),
    Column("status", String(50), nullable=False),
    Column("client_request_id", String(50)),
    Column("request_preview", String(1000)),
    Column("response_preview", String(1000)),
    Column("db_payload_generation", Integer, nullable=False, server_default=text("0")),
    Column("trace_name", String(4096)),
    Column("session_id", String(250)),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("cache_read_input_tokens", BigInteger),
    Column("cache_creation_input_tokens", BigInteger),
    Column("cache_creation_input_tokens_above_1hr", BigInteger),
    Column("input_cost", DOUBLE),
    Column("output_cost", DOUBLE),
    Column("total_cost", DOUBLE),
    PrimaryKeyConstraint("request_id", name="trace_info_pk"),
    ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"],
                         name="fk_trace_info_experiment_id", ondelete="CASCADE"),
    Index("index_trace_info_experiment_id_session_id", "experiment_id", "session_id"),
    Index("index_trace_info_experiment_id_timestamp_ms", "experiment_id", "timestamp_ms"),
    Index("index_trace_info_timestamp_ms_request_id", "timestamp_ms", "request_id"),
)



def _trace_key_values(name: str, primary_key: str) -> Table:
    """``trace_tags`` and ``trace_request_metadata`` have the same shape in MLflow's schema."""
    return Table(
        name,
        metadata,
        Column("key", String(250), nullable=False),
        Column("value", String(8000)),
        Column("request_id", String(50), nullable=False),
        PrimaryKeyConstraint("key", "request_id", name=primary_key),
        ForeignKeyConstraint(["request_id"], ["trace_info.request_id"],
                             name=f"fk_{name}_request_id", ondelete="CASCADE"),
        Index(f"index_{name}_request_id", "request_id"),
    )


trace_tags = _trace_key_values("trace_tags", "trace_tag_pk")
trace_request_metadata = _trace_key_values("trace_request_metadata", "trace_request_metadata_pk")
