"""Issue 12, finding 2: ``trackd gc`` deletes only inside what it owns.

An experiment stored at ``file:///some/dir?`` (possible before the location rule) gave its runs
the root ``/some/dir`` itself, and ``trackd gc --run-ids <run>`` removed the whole directory.
gc now checks every place after resolution: strictly inside the artifact destination or the
default artifact root, or the owner's own folder (``.../<run id>``,
``.../<model id>/artifacts``); anything else is refused, reported, and nothing is deleted.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ops.test_gc import World, gc, world  # noqa: F401 - the fixture is used by name


def _set(w: World, sql: str, **params: object) -> None:
    engine = sa.create_engine(w.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "keep.txt").write_text("precious")
    return victim


def _deleted_run_at(w: World, artifact_uri: str) -> str:
    exp = w.experiment(f"e{time.monotonic_ns()}")
    run_id = w.run(exp)
    _set(w, "UPDATE runs SET artifact_uri = :u WHERE run_uuid = :r", u=artifact_uri, r=run_id)
    w.call("POST", "runs/delete", {"run_id": run_id})
    time.sleep(0.01)
    return run_id


@pytest.mark.parametrize("suffix", ["?", "#", "?x="])
def test_a_query_location_does_not_make_gc_delete_the_directory(
        world: World, tmp_path: Path, suffix: str) -> None:  # noqa: F811
    victim = _victim(tmp_path)
    exp = world.experiment("legacy")
    run_id = world.run(exp)
    location = victim.as_uri() + suffix
    _set(world, "UPDATE experiments SET artifact_location = :l WHERE experiment_id = :e",
         l=location, e=int(exp))
    _set(world, "UPDATE runs SET artifact_uri = :u WHERE run_uuid = :r",
         u=f"{location}/{run_id}/artifacts", r=run_id)
    world.call("POST", "runs/delete", {"run_id": run_id})
    time.sleep(0.01)
    result = gc(world, "--run-ids", run_id)
    assert (victim / "keep.txt").read_text() == "precious"
    assert (victim / "sub").is_dir()
    assert world.count("runs", "run_uuid = :r", r=run_id) == 1  # kept, to be looked at
    assert "could not delete artifacts" in result.output or result.exit_code != 0


def test_a_root_that_is_not_the_runs_own_folder_is_refused(
        world: World, tmp_path: Path) -> None:  # noqa: F811
    victim = _victim(tmp_path)
    run_id = _deleted_run_at(world, str(victim))
    gc(world, "--run-ids", run_id)
    assert (victim / "keep.txt").read_text() == "precious"
    assert world.count("runs", "run_uuid = :r", r=run_id) == 1


def test_a_symlinked_run_folder_is_judged_by_where_it_leads(
        world: World, tmp_path: Path) -> None:  # noqa: F811
    victim = _victim(tmp_path)
    link_parent = tmp_path / "links"
    link_parent.mkdir()
    exp = world.experiment("linked")
    run_id = world.run(exp)
    (link_parent / run_id).symlink_to(victim)  # .../<run id> -> a directory gc does not own
    _set(world, "UPDATE runs SET artifact_uri = :u WHERE run_uuid = :r",
         u=f"{link_parent / run_id}/artifacts", r=run_id)
    world.call("POST", "runs/delete", {"run_id": run_id})
    time.sleep(0.01)
    gc(world, "--run-ids", run_id)
    assert (victim / "keep.txt").read_text() == "precious"


def test_the_destination_itself_is_never_deleted(world: World) -> None:  # noqa: F811
    exp = world.experiment("whole")
    keeper = world.run(exp)
    run_id = _deleted_run_at(world, "mlflow-artifacts:/")
    gc(world, "--run-ids", run_id)
    assert (world.artifacts / exp / keeper / "artifacts" / "a.txt").read_bytes() == b"data"
    assert world.count("runs", "run_uuid = :r", r=run_id) == 1


def test_the_runs_own_folders_still_go(world: World, tmp_path: Path) -> None:  # noqa: F811
    own = tmp_path / "elsewhere"
    exp = world.experiment("custom")
    run_id = world.run(exp)
    (own / run_id / "artifacts").mkdir(parents=True)
    (own / run_id / "artifacts" / "f").write_text("x")
    _set(world, "UPDATE runs SET artifact_uri = :u WHERE run_uuid = :r",
         u=f"{own}/{run_id}/artifacts", r=run_id)
    world.call("POST", "runs/delete", {"run_id": run_id})
    time.sleep(0.01)
    result = gc(world, "--run-ids", run_id)
    assert result.exit_code == 0, result.output
    assert not (own / run_id).exists()
    assert own.is_dir()
    assert world.count("runs", "run_uuid = :r", r=run_id) == 0
