"""Declared requirements: a workbook's ``requires`` is checked by validate and filled by new-pair.

Each action in ``actions.yaml`` lists the inputs its notebook cannot run without; ``c3
validate`` fails a pair whose city has no value for one at any level, and ``c3 new-pair``
writes and lists a placeholder for each, so that a scaffolded pair validates and builds.
"""

from __future__ import annotations

import json

import pytest

from c3lib.cli import main
from c3lib.exceptions import ParamsErrors
from c3lib.params import city_inputs, load_catalog
from c3lib.scaffold import PLACEHOLDER, city_yaml
from tests.conftest import PARAMS, edit_yaml, make_notebook

MISSING = "no value at city, region, country or global level"


def errors_of(params_dir) -> list:
    with pytest.raises(ParamsErrors) as info:
        load_catalog(params_dir)
    return info.value.errors


def requiring(cat, req: str) -> list[str]:
    return [a.id for a in cat.actions.values() if req in a.requires]


def strip_field(params_dir, cat, city_id: str, field: str = "grid_ef") -> None:
    """Take ``profile.<field>`` from a city and from its country file: no level has it."""
    edit_yaml(params_dir / f"cities/{city_id}.yaml", lambda d: d["profile"].pop(field, None))
    country = cat.country_of(cat.cities[city_id])
    if country is not None:
        edit_yaml(
            params_dir / f"countries/{country.id}.yaml",
            lambda d: d.get("values", {}).get("profile", {}).pop(field, None),
        )


def new_ids(cat) -> tuple[str, str]:
    """Two city ids the catalog does not have."""
    free = [c for c in (f"newcity{n}" for n in range(100)) if c not in cat.cities]
    return free[0], free[1]


def test_shipped_actions_declare_requirements():
    # the shipped declaration, found by running every workbook on a placeholder-only pair
    cat = load_catalog(PARAMS)
    assert {a.id: a.requires for a in cat.actions.values()} == {
        "emissions-inventory": [],
        "port-operations": [],
        "commercial-cooking": [],
        "bike-sharing": ["profile.grid_ef"],
        "low-emission-development": ["profile.grid_ef"],
    }


def test_load_catalog_missing_requirement_names_city_file_and_field(params_dir):
    cat = load_catalog(params_dir)
    pair = next(iter(cat.pairs.values()))
    strip_field(params_dir, cat, pair.learning)
    cat_pairs = [p.id for p in cat.pairs.values() if pair.learning in (p.mentor, p.learning)]
    errors = [e for e in errors_of(params_dir) if e.field == "profile.grid_ef"]
    # the country file may serve other cities too: the learning city is one of those reported
    hit = next(e for e in errors if e.file.endswith(f"cities/{pair.learning}.yaml"))
    needs = ", ".join(requiring(cat, "profile.grid_ef"))
    assert hit.message == f"required by {needs} (pair {', '.join(cat_pairs)}); {MISSING}"
    assert str(hit).endswith(f"cities/{pair.learning}.yaml: profile.grid_ef: {hit.message}")


def test_load_catalog_requirement_from_country_file_is_available(params_dir):
    # a city without its own value, whose country file gives one, validates
    cat = load_catalog(params_dir)
    city = next(
        c
        for c in cat.cities.values()
        if cat.country_of(c) and "grid_ef" in cat.country_of(c).values.get("profile", {})
    )
    edit_yaml(params_dir / f"cities/{city.id}.yaml", lambda d: d["profile"].pop("grid_ef", None))
    cat = load_catalog(params_dir)
    assert (
        city_inputs(cat.cities[city.id], "profile", cat.country_of(cat.cities[city.id])).loc[
            "grid_ef", "level"
        ]
        == "country"
    )


def test_load_catalog_unpaired_city_needs_nothing(params_dir):
    # requirements are checked for the cities of pairs only
    cid, _ = new_ids(load_catalog(params_dir))
    text, _ = city_yaml(cid)  # no grid_ef and no country file
    (params_dir / f"cities/{cid}.yaml").write_text(text, encoding="utf-8")
    assert "grid_ef" not in load_catalog(params_dir).cities[cid].profile


@pytest.mark.parametrize(
    ("req", "message"),
    [("profile.no_such_field", "unknown field"), ("no-such-section.x", "unknown section")],
)
def test_load_catalog_requirement_unknown_in_actions_file(params_dir, req, message):
    edit_yaml(params_dir / "actions.yaml", lambda d: d["actions"][0].update(requires=[req]))
    errors = errors_of(params_dir)
    assert [(e.field, e.message) for e in errors if e.file.endswith("actions.yaml")] == [
        ("actions[0].requires[0]", message)
    ]


def test_load_catalog_activity_requirement(params_dir):
    # an activity field with no default: every paired city lacking it at every level fails
    cat = load_catalog(params_dir)
    req = "bike-sharing.existing_stations"
    edit_yaml(
        params_dir / "actions.yaml",
        lambda d: d["actions"][list(cat.actions).index("bike-sharing")].update(requires=[req]),
    )
    paired = {c for p in cat.pairs.values() for c in (p.mentor, p.learning)}
    expected = {
        cid
        for cid in paired
        if city_inputs(cat.cities[cid], "bike-sharing", cat.country_of(cat.cities[cid])).loc[
            "existing_stations", "quality"
        ]
        == "missing"
    }
    if not expected:
        pytest.skip("every paired city has existing_stations at some level")
    errors = errors_of(params_dir)
    got = {
        e.file.rsplit("/", 1)[-1].removesuffix(".yaml")
        for e in errors
        if e.field == "activity.bike-sharing.existing_stations"
    }
    assert got == expected
    assert all("required by bike-sharing (pair " in e.message for e in errors)


def test_main_validate_missing_requirement_exit_2(params_dir, capsys):
    cat = load_catalog(params_dir)
    pair = next(iter(cat.pairs.values()))
    strip_field(params_dir, cat, pair.mentor)
    assert main(["validate", "--params", str(params_dir)]) == 2
    err = capsys.readouterr().err
    assert f"cities/{pair.mentor}.yaml: profile.grid_ef: required by" in err
    assert "Traceback" not in err


def test_new_pair_placeholders_validate_and_list_every_requirement(params_dir, capsys):
    cat = load_catalog(params_dir)
    mentor, learning = new_ids(cat)
    assert main(["new-pair", mentor, learning, "--params", str(params_dir)]) == 0
    out = capsys.readouterr().out
    todo = out.split("Still to fill", 1)[1]
    for req in {r for a in cat.actions.values() for r in a.requires}:
        for cid in (mentor, learning):
            needs = ", ".join(requiring(cat, req))
            assert f"cities/{cid}.yaml: {req}: placeholder; required by {needs}" in todo
    assert main(["validate", "--params", str(params_dir)]) == 0
    city = load_catalog(params_dir).cities[learning]
    assert city.profile["grid_ef"].source.startswith(PLACEHOLDER)


def tiny_workbooks(folder, cat) -> None:
    """One tiny workbook per action, reading every input the action requires (as the real
    one does: a KeyError when it is absent), then publishing a record."""
    for action in cat.actions.values():
        reads = "\n".join(
            f"assert all('{r.split('.', 1)[1]}' in p for p in cs.profiles(case).values())"
            if r.startswith("profile.")
            else f"assert cs.inputs(case)['field'].eq('{r.split('.', 1)[1]}').any()"
            for r in action.requires
        )
        make_notebook(
            folder / action.notebook,
            "from c3lib.kit import casestudy as cs\n"
            f"case = cs.load_case(pair, '{action.id}', params_dir)\n"
            "profiles = cs.profiles(case)\n" + reads,
        )


@pytest.mark.slow
def test_new_pair_then_validate_list_build(params_dir, tmp_path, monkeypatch, capsys):
    # the README's path for a new pair, placeholders only: it validates, plans and builds
    cat = load_catalog(params_dir)
    mentor, learning = new_ids(cat)
    pid = f"{learning}-{mentor}"
    nbs, out = tmp_path / "notebooks", tmp_path / "out"
    tiny_workbooks(nbs, cat)
    monkeypatch.setenv("C3_NOTEBOOKS", str(nbs))
    assert main(["new-pair", mentor, learning, "--params", str(params_dir)]) == 0
    assert main(["validate", "--params", str(params_dir)]) == 0
    assert main(["list", "--params", str(params_dir)]) == 0
    assert pid in capsys.readouterr().out
    args = ["build", "--pair", pid, "--params", str(params_dir), "--out", str(out)]
    assert main([*args, "--jobs", "1"]) == 0, capsys.readouterr().err
    for action in cat.actions:
        record = json.loads((out / pid / f"{action}.json").read_text(encoding="utf-8"))
        assert record["status"] == "ok"
    name = load_catalog(params_dir).cities[learning].name
    assert f"built on placeholder data for {name}:" in (out / "index.html").read_text("utf-8")


@pytest.mark.slow
def test_new_pair_real_workbook_builds_with_banner(params_dir, tmp_path, capsys):
    # one real workbook that needs a declared requirement, on a placeholder-only pair
    cat = load_catalog(params_dir)
    mentor, learning = new_ids(cat)
    pid = f"{learning}-{mentor}"
    out = tmp_path / "out"
    assert main(["new-pair", mentor, learning, "--params", str(params_dir)]) == 0
    args = ["build", "--pair", pid, "--action", "bike-sharing", "--params", str(params_dir)]
    assert main([*args, "--out", str(out), "--jobs", "1"]) == 0, capsys.readouterr().err
    name = load_catalog(params_dir).cities[learning].name
    page = (out / pid / "bike-sharing.html").read_text(encoding="utf-8")
    assert f"Built on placeholder data for {name}:" in page
    assert "c3-placeholder-value" in page  # its headline values are marked
