"""trackd: a fast experiment-tracking server that speaks MLflow."""

__version__ = "0.1.0"

# The MLflow release whose REST contract and database schema trackd serves.
MLFLOW_COMPAT_VERSION = "3.18.0"
