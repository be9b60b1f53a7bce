"""Span pricing reads the catalog bundled with the mlflow package without importing mlflow
(seconds and hundreds of modules on the ingest path); compat/test_llm_cost.py checks the
prices against mlflow server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from trackd.entities.otel_pricing import llm_cost
print(json.dumps({
    "priced": llm_cost("openai/gpt-4o", {"input_tokens": 1000, "output_tokens": 100}, "acme"),
    "cached": llm_cost("gpt-4o", {"input_tokens": 1000, "output_tokens": 0,
                                  "cache_read_input_tokens": 400}, "openai"),
    "gateway": llm_cost("gateway:/gpt-4o", {"input_tokens": 1}, None),
    "no_tokens": llm_cost("gpt-4o", {"input_tokens": 0, "output_tokens": 0}, None),
    "bad_count": llm_cost("gpt-4o", {"input_tokens": "many"}, None),
    "mlflow_imported": "mlflow" in sys.modules,
}))
"""


def test_prices_from_the_bundled_catalog_without_importing_mlflow() -> None:
    out = json.loads(subprocess.run([sys.executable, "-c", PROBE], check=True,
                                    capture_output=True, text=True).stdout)
    # gpt-4o: $2.50 / $10 per million tokens, cache reads $1.25; an unknown provider falls
    # back to every provider, and a provider/ prefix is dropped.
    assert out["priced"]["input_cost"] == 0.0025 and out["priced"]["output_cost"] == 0.001
    assert abs(out["cached"]["input_cost"] - (600 * 2.5e-6 + 400 * 1.25e-6)) < 1e-12
    assert out["gateway"] is None and out["no_tokens"] is None and out["bad_count"] is None
    assert out["mlflow_imported"] is False


ESCAPE_PROBE = """
import json, os, sys
from trackd.entities.otel_pricing import _catalog_dir, llm_cost
planted = sys.argv[1]  # a catalog file outside mlflow's, pricing gpt-4o at $1 a token
relative = os.path.relpath(planted, _catalog_dir()).removesuffix(".json")
usage = {"input_tokens": 1000, "output_tokens": 100}
print(json.dumps([llm_cost("gpt-4o", usage, provider)
                  for provider in (relative, planted.removesuffix(".json"), "..", ".hidden")]))
"""


def test_a_span_provider_cannot_point_the_catalog_outside_its_folder(tmp_path: Path) -> None:
    # The provider comes from a span's attributes, i.e. from whoever sends spans: it names a
    # file in the catalog folder and nothing else.
    planted = tmp_path / "evil.json"
    planted.write_text(json.dumps({"models": {"gpt-4o": {"pricing": {
        "input_per_million_tokens": 1e6, "output_per_million_tokens": 1e6}}}}))
    out = json.loads(subprocess.run([sys.executable, "-c", ESCAPE_PROBE, str(planted)],
                                    check=True, capture_output=True, text=True).stdout)
    # Each falls back to the bundled catalog's own gpt-4o price, never the planted one.
    assert all(cost["input_cost"] == 0.0025 for cost in out), out
