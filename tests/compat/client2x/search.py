"""2.x client: search_runs filters, ordering and page tokens; search_experiments paging.

Usage: python search.py TRACKING_URI  (exits non-zero on the first failed check)
"""

from __future__ import annotations

from _common import connect, unique
from mlflow.entities import Metric, Param, RunTag, ViewType

client = connect()
exp_id = client.create_experiment(unique("v2-search"))

RUNS = 25
base = 1_700_000_000_000
ids = []
for i in range(RUNS):
    run = client.create_run(exp_id, start_time=base + i, run_name=f"r{i:02d}")
    client.log_batch(
        run.info.run_id,
        metrics=[Metric("score", float(i), base, 0)],
        params=[Param("parity", "even" if i % 2 == 0 else "odd")],
        tags=[RunTag("bucket", str(i % 5))],
    )
    if i % 4 == 0:
        client.set_terminated(run.info.run_id)
    ids.append(run.info.run_id)


def search(flt: str = "", order=None, max_results: int = 1000):  # type: ignore[no-untyped-def]
    return client.search_runs([exp_id], flt, ViewType.ACTIVE_ONLY, max_results, order)


def run_names(runs) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.info.run_name for r in runs]


assert run_names(search())[:3] == ["r24", "r23", "r22"]
assert run_names(search("metrics.score >= 20", ["metrics.score ASC"])) == [
    "r20",
    "r21",
    "r22",
    "r23",
    "r24",
]
assert len(search("params.parity = 'odd'")) == 12
assert set(run_names(search("tags.bucket = '3'"))) == {"r03", "r08", "r13", "r18", "r23"}
assert set(run_names(search("attributes.status = 'FINISHED'"))) == {
    f"r{i:02d}" for i in range(0, RUNS, 4)
}
assert run_names(search("attributes.run_name = 'r07'")) == ["r07"]
early = search(f"attributes.start_time < {base + 2}", ["start_time ASC"])
assert run_names(early) == ["r00", "r01"]
wanted = ", ".join(f"'{ids[i]}'" for i in (1, 2, 3))
assert set(run_names(search(f"attributes.run_id IN ({wanted})"))) == {"r01", "r02", "r03"}

# Page tokens: 25 runs, 7 per page, ordered by metric.
collected: list[str] = []
token = None
pages = 0
while True:
    page = client.search_runs(
        [exp_id], "", ViewType.ACTIVE_ONLY, 7, ["metrics.score DESC"], page_token=token
    )
    collected += run_names(page)
    pages += 1
    token = page.token
    if not token:
        break
assert pages == 4, pages
assert collected == [f"r{i:02d}" for i in reversed(range(RUNS))], collected

# search_experiments paging
prefix = unique("v2-exps")
for i in range(5):
    client.create_experiment(f"{prefix}-{i}")
first = client.search_experiments(
    filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"], max_results=3
)
assert [e.name for e in first] == [f"{prefix}-{i}" for i in range(3)]
rest = client.search_experiments(
    filter_string=f"name LIKE '{prefix}-%'",
    order_by=["name ASC"],
    max_results=3,
    page_token=first.token,
)
assert [e.name for e in rest] == [f"{prefix}-{i}" for i in range(3, 5)] and not rest.token

print("2.x search OK")
