"""LLM cost of a span, priced as mlflow server 3.18 prices it when it stores spans.

mlflow server adds ``mlflow.llm.cost`` (``{input_cost, output_cost, total_cost}`` in USD) to
every stored span that has a model and token usage but no cost, unless the span is an AGENT
(its usage rolls up its LLM calls). Prices come from the model catalog bundled with the
``mlflow`` package (``mlflow/utils/model_catalog/<provider>.json``, per-million-token prices).
trackd reads those same files from the installed package (the ``genai-cost`` extra), locating
it with ``importlib.util.find_spec`` so that mlflow itself is never imported: importing it
takes seconds and hundreds of modules. Without the package, spans are not priced; a cost the
client sends is stored either way.

Not followed: mlflow server first fetches the newest catalog from the address in
``MLFLOW_MODEL_CATALOG_URI`` (the bundled files are its fallback) and prefers litellm's prices
when litellm is installed; trackd always uses the bundled catalog (docs/api.md).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

# Gateway and serving-endpoint routes name no priceable model (MLflow skips them too).
_UNPRICED_PREFIXES = ("gateway:/", "endpoints:/")
# catalog price key (per million tokens) -> our rate name (per token)
_RATES = {"input_per_million_tokens": "input", "output_per_million_tokens": "output",
          "cache_read_per_million_tokens": "cache_read",
          "cache_write_per_million_tokens": "cache_write",
          "cache_write_1hr_per_million_tokens": "cache_write_1h"}
Rates = dict[str, float]


@functools.lru_cache(maxsize=1)
def _catalog_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("mlflow")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "utils" / "model_catalog"
        if folder.is_dir():
            return folder
    return None


@functools.lru_cache(maxsize=1)
def _provider_names() -> tuple[str, ...]:
    folder = _catalog_dir()
    if folder is None:
        return ()
    return tuple(sorted(p.stem for p in folder.glob("*.json") if p.is_file()))


@functools.lru_cache(maxsize=256)
def _provider(name: str) -> dict[str, Rates]:
    """A provider's models and their per-token rates; {} for a provider the catalog lacks."""
    folder = _catalog_dir()
    if folder is None or "/" in name or name.startswith("."):
        return {}
    try:
        catalog = json.loads((folder / f"{name}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    models: dict[str, Rates] = {}
    for model, entry in (catalog.get("models") or {}).items():
        pricing = (entry or {}).get("pricing") or {}
        models[model] = {rate: pricing[key] / 1_000_000 for key, rate in _RATES.items()
                         if isinstance(pricing.get(key), int | float)}
    return models


def _lookup(model: str, provider: str | None) -> Rates | None:
    bare = model.split("/", 1)[-1]
    if provider:
        return _provider(provider).get(bare)
    # No provider: the first provider (by name) that prices the model; else the first that
    # lists it at all.
    listed = None
    for name in _provider_names():
        rates = _provider(name).get(bare)
        if rates is not None:
            if rates.get("input"):
                return rates
            listed = listed if listed is not None else rates
    return listed


def _price(rates: Rates, usage: dict[str, Any]) -> tuple[float, float]:
    input_rate = rates.get("input", 0.0)
    cache_read = usage.get("cache_read_input_tokens") or 0
    cache_write = usage.get("cache_creation_input_tokens") or 0
    write_1h = min(usage.get("cache_creation_input_tokens_above_1hr") or 0, cache_write)
    # Input counts include the cached tokens, each kind priced at its own rate.
    regular = max((usage.get("input_tokens") or 0) - cache_read - cache_write, 0)
    write_rate = rates.get("cache_write", input_rate)
    cost = regular * input_rate
    if cache_read > 0:
        cost += cache_read * rates.get("cache_read", input_rate)
    if cache_write - write_1h > 0:
        cost += (cache_write - write_1h) * write_rate
    if write_1h > 0:
        cost += write_1h * rates.get("cache_write_1h", write_rate)
    return cost, (usage.get("output_tokens") or 0) * rates.get("output", 0.0)


def llm_cost(model: Any, usage: Any, provider: Any) -> dict[str, float] | None:
    """``mlflow.llm.cost`` for a span's model, token usage and provider; None when the model
    is not in the catalog (or there is no catalog)."""
    if not isinstance(model, str) or not model or not isinstance(usage, dict) or not usage:
        return None
    if model.startswith(_UNPRICED_PREFIXES):
        return None
    if model.startswith(("databricks-", "databricks/")):
        provider = "databricks"  # priced from the Databricks catalog whatever the span says
    counts = [usage.get(k) for k in ("input_tokens", "output_tokens",
                                     "cache_read_input_tokens", "cache_creation_input_tokens",
                                     "cache_creation_input_tokens_above_1hr")]
    if any(c is not None and (not isinstance(c, int) or isinstance(c, bool)) for c in counts):
        return None
    if not counts[0] and not counts[1]:
        return None
    if _catalog_dir() is None:
        return None
    rates = None
    if isinstance(provider, str) and provider:
        rates = _lookup(model, provider.lower())
    if rates is None:
        rates = _lookup(model, None)
    if rates is None:
        return None
    input_cost, output_cost = _price(rates, usage)
    return {"input_cost": input_cost, "output_cost": output_cost,
            "total_cost": input_cost + output_cost}
