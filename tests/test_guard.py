"""The build checks what it wrote: a target whose files another process changed during
the build is made again, or removed, never left as if good (for kernels not confined)."""

from __future__ import annotations

import json

import pytest

import c3lib.build.batch as batch
from c3lib.build.plan import plan
from c3lib.build.store import commit, read_status, target_paths
from c3lib.params import load_catalog
from tests.conftest import make_notebook, run_artifacts

ACTION = "emissions-inventory"


@pytest.fixture
def three(params_dir, tmp_path):
    """Three targets of any params folder: a cached victim, a run victim, the culprit."""
    nbs = tmp_path / "notebooks"
    make_notebook(nbs / "emissions_inventory.ipynb", "x = 1")
    cat = load_catalog(params_dir)
    pairs = sorted(cat.pairs)[:3]
    if len(pairs) < 3:
        pytest.skip("needs three pairs")
    out = tmp_path / "out"

    def specs(force=False):
        return plan(cat, out, pairs=pairs, actions=[ACTION], notebooks_dir=nbs, force=force)

    return out, specs


def test_build_remakes_targets_changed_behind_its_back(three, monkeypatch):
    out, specs = three
    cached, victim, culprit = specs()
    assert commit(cached, run_artifacts(cached, "cached-good")).status == "ok"
    calls = []

    def produce_all(todo, jobs, scheduler):
        calls.append([s.pair for s in todo])
        for spec in todo:
            if spec.pair == culprit.pair:  # as a notebook writing by absolute path would
                for target in (cached, victim):
                    for key in ("html", "json"):
                        target_paths(out, target.pair, ACTION)[key].write_text("hijacked")
            yield spec, run_artifacts(spec, f"{spec.pair}-{len(calls)}")

    monkeypatch.setattr(batch, "_produce_all", produce_all)
    results = batch.build(specs())
    assert [(r.pair, r.status) for r in results] == [
        (cached.pair, "ok"),
        (victim.pair, "ok"),
        (culprit.pair, "ok"),
    ]
    assert calls == [[victim.pair, culprit.pair], [cached.pair, victim.pair]]
    for target in (cached, victim):
        paths = target_paths(out, target.pair, ACTION)
        assert paths["html"].read_text() == f"<!DOCTYPE html><!-- {target.pair}-2 -->"
        assert json.loads(paths["json"].read_text())["tag"] == f"{target.pair}-2"
    assert [r.status for r in batch.build(specs())] == ["cached"] * 3


def test_build_removes_targets_that_stay_changed(three, monkeypatch):
    out, specs = three
    _, victim, culprit = specs()

    def produce_all(todo, jobs, scheduler):
        html = target_paths(out, victim.pair, ACTION)["html"]
        for spec in todo:
            yield spec, run_artifacts(spec, "good")
            if html.exists():  # after each commit, the re-run's too
                html.write_text("hijacked")

    monkeypatch.setattr(batch, "_produce_all", produce_all)
    results = {r.pair: r for r in batch.build(specs())}
    assert results[victim.pair].status == "failed"
    assert results[victim.pair].error.startswith("its files were changed during the build")
    assert results[culprit.pair].status == "ok"
    paths = target_paths(out, victim.pair, ACTION)
    assert not paths["html"].exists() and not paths["json"].exists()
    state = read_status(out, victim.pair, ACTION)
    assert state["status"] == "failed" and state["record"] is None
