"""Scaffolding a new pair with ``c3 new-pair``: valid files, marked placeholders, safe paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from c3lib.cli import main
from c3lib.exceptions import C3Error, ParamsErrors
from c3lib.params import load_catalog
from c3lib.scaffold import (
    PLACEHOLDER,
    city_name,
    city_yaml,
    new_pair,
    pair_id,
    pair_yaml,
    placeholder_value,
    required_fields,
)
from tests.conftest import PARAMS

REQUIRED = ("population", "area_km2", "latitude", "longitude")

CITY = """\
id: {id}
name: {name}
country: {country}
profile:
  population: {{value: {population}, unit: persons, year: 2020, source: fixture, quality: official}}
  area_km2: {{value: {area}, unit: km2, year: 2020, source: test fixture, quality: official}}
  latitude: {{value: {lat}, unit: degrees, source: test fixture, quality: secondary}}
  longitude: {{value: {lon}, unit: degrees, source: test fixture, quality: secondary}}
  grid_ef: {{value: 0.5, unit: kg CO2/kWh, source: test fixture, quality: assumed}}
"""


def write_city(params: Path, **kw) -> Path:
    path = params / "cities" / f"{kw['id']}.yaml"
    path.write_text(CITY.format(**kw), encoding="utf-8")
    return path


@pytest.fixture
def empty_params(tmp_path: Path) -> Path:
    """A params folder with the repository's actions and no cities or pairs."""
    root = tmp_path / "params"
    (root / "cities").mkdir(parents=True)
    (root / "pairs").mkdir()
    shutil.copy(PARAMS / "actions.yaml", root / "actions.yaml")
    return root


@pytest.fixture
def known_params(empty_params: Path) -> Path:
    """Pasig and Taipei known and paired (pasig-taipei, mentor taipei); no country files."""
    write_city(
        empty_params, id="pasig", name="Pasig", country="Philippines",
        population=803159, area=48.46, lat=14.5605, lon=121.0765,
    )  # fmt: skip
    write_city(
        empty_params, id="taipei", name="Taipei", country="Taiwan",
        population=2602418, area=271.8, lat=25.0375, lon=121.5625,
    )  # fmt: skip
    text, _ = pair_yaml(
        load_catalog(empty_params), "taipei", "pasig", {"taipei": "Taipei", "pasig": "Pasig"}
    )
    (empty_params / "pairs/pasig-taipei.yaml").write_text(text, encoding="utf-8")
    load_catalog(empty_params)  # the fixture itself is valid
    return empty_params


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_pair_id_learning_city_first():
    assert pair_id("kitakyushu", "haiphong") == "haiphong-kitakyushu"
    # the repository's convention, which every pair file follows
    for path in sorted((PARAMS / "pairs").glob("*.yaml")):
        pair = read(path)
        assert pair_id(pair["mentor"], pair["learning"]) == path.stem


def test_city_name_from_id():
    assert city_name("san-diego") == "San Diego"
    assert city_name("pasig") == "Pasig"


@pytest.mark.parametrize(
    ("minimum", "maximum", "expected"),
    [
        (1, 50_000_000, 1),  # population: the smallest allowed, 1 person
        (0.1, 20_000, 0.1),  # area: 0.1 km2
        (-90, 90, 0),  # latitude: the equator
        (-10, -5, -5),  # a range below zero: its top
        (float("nan"), float("nan"), 0),  # no bounds
    ],
)
def test_placeholder_value_closest_to_zero(minimum, maximum, expected):
    assert placeholder_value(minimum, maximum) == pytest.approx(expected)


def test_new_pair_both_cities_new_validates(empty_params):
    result = new_pair("taipei", "pasig", empty_params, focus=["bike-sharing"])
    assert result.pair == "pasig-taipei"
    assert [p.relative_to(empty_params).as_posix() for p in result.written] == [
        "cities/taipei.yaml",
        "cities/pasig.yaml",
        "pairs/pasig-taipei.yaml",
    ]
    cat = load_catalog(empty_params)  # what `c3 validate` runs
    pair = cat.pairs["pasig-taipei"]
    assert (pair.mentor, pair.learning, pair.name) == ("taipei", "pasig", "Pasig–Taipei")
    assert pair.roles_basis == "assumed" and pair.roles_note.startswith(PLACEHOLDER)
    assert [(f.action, f.basis) for f in pair.focus] == [("bike-sharing", "assumed")]
    # every step of every action, not started
    for action in cat.actions.values():
        steps = pair.progress[action.id]
        assert list(steps) == [s.id for s in action.steps]
        assert {s.status for s in steps.values()} == {"not-started"}
    for cid in ("pasig", "taipei"):
        city = cat.cities[cid]
        assert city.country.startswith(PLACEHOLDER)
        for name in REQUIRED:
            q = city.profile[name]
            assert q.quality == "assumed" and q.source.startswith(PLACEHOLDER), name
        todo = [t for t in result.todo if f"cities/{cid}.yaml" in t]
        for name in REQUIRED:
            assert any(f"profile.{name}: placeholder" in t for t in todo), name
        # required by a workbook, with no country file to give it: a placeholder, listed
        assert city.profile["grid_ef"].source.startswith(PLACEHOLDER)
        assert any(
            "profile.grid_ef: placeholder; required by bike-sharing, low-emission-development" in t
            for t in todo
        )
        assert any("country" in t for t in todo)
        assert any("name" in t and "derived from the id" in t for t in todo)


def test_new_pair_placeholders_are_plainly_not_figures(empty_params):
    # 1 person on 0.1 km2 at 0° N 0° E: validates, but no one would take it for data
    new_pair("taipei", "pasig", empty_params)
    profile = load_catalog(empty_params).cities["pasig"].profile
    assert [profile[n].value for n in REQUIRED] == pytest.approx([1, 0.1, 0, 0])


def test_new_pair_known_cities_untouched(known_params):
    before = snapshot(known_params / "cities")
    result = new_pair("pasig", "taipei", known_params)  # the roles reversed: a new pair
    assert [p.name for p in result.written] == ["taipei-pasig.yaml"]
    assert snapshot(known_params / "cities") == before
    assert result.notes == ["pasig and taipei are already paired in pasig-taipei"]
    cat = load_catalog(known_params)
    assert cat.pairs["taipei-pasig"].name == "Taipei–Pasig"  # names from the city files


def test_new_pair_one_new_city(known_params):
    result = new_pair(
        "kaohsiung",
        "pasig",
        known_params,
        values={"kaohsiung": {"name": "Kaohsiung", "country": "Taiwan", "population": 2_730_000}},
        values_source="Kaohsiung City Government (2023)",
        values_year=2023,
    )
    assert [p.name for p in result.written] == ["kaohsiung.yaml", "pasig-kaohsiung.yaml"]
    city = load_catalog(known_params).cities["kaohsiung"]
    assert (city.name, city.country) == ("Kaohsiung", "Taiwan")
    pop = city.profile["population"]
    assert (pop.value, pop.unit, pop.year, pop.quality) == (2_730_000, "persons", 2023, "secondary")
    assert pop.source == "Kaohsiung City Government (2023)"
    assert city.profile["area_km2"].source.startswith(PLACEHOLDER)
    assert not any("population" in t or "country" in t or "name" in t for t in result.todo)


def test_new_pair_values_without_source_flagged(empty_params):
    result = new_pair("taipei", "pasig", empty_params, values={"pasig": {"population": 803159}})
    pop = load_catalog(empty_params).cities["pasig"].profile["population"]
    assert pop.value == 803159 and pop.quality == "assumed"
    assert pop.source.startswith("unsourced:")
    assert any("profile.population: value given without a source" in t for t in result.todo)


def test_new_pair_source_makes_roles_and_focus_sourced(empty_params):
    agreement = "C3 agreement signed 2024-05-01"
    result = new_pair("taipei", "pasig", empty_params, focus=["bike-sharing"], source=agreement)
    pair = load_catalog(empty_params).pairs["pasig-taipei"]
    assert (pair.roles_basis, pair.roles_note) == ("sourced", agreement)
    assert [(f.basis, f.source) for f in pair.focus] == [("sourced", agreement)]
    assert not any("pairs/" in t for t in result.todo)


def test_city_yaml_lists_fields_to_fill_as_comments():
    text, _ = city_yaml("pasig", actions=["emissions-inventory"])
    data = yaml.safe_load(text)
    assert set(data) == {"id", "name", "country", "profile"}
    assert set(data["profile"]) == set(REQUIRED)
    # optional profile fields are listed, commented out, with their units
    for name, unit in [("pm25_annual_mean", "µg/m³"), ("grid_ef", "kg CO2/kWh")]:
        line = next(ln for ln in text.splitlines() if f" {name}:" in ln)
        assert line.startswith("#") and f'unit: "{unit}"' in line


def test_city_yaml_commented_fields_parse_once_filled():
    text, _ = city_yaml("pasig")
    line = next(ln for ln in text.splitlines() if " grid_ef:" in ln)
    filled = line.lstrip("# ").replace("value: ,", "value: 0.7,").replace("year: ,", "year: 2020,")
    filled = filled.replace("quality: ,", "quality: official,").replace('source: ""', 'source: "x"')
    assert yaml.safe_load(filled)["grid_ef"] == {
        "value": 0.7,
        "unit": "kg CO2/kWh",
        "year": 2020,
        "source": "x",
        "quality": "official",
        "note": "",
    }


@pytest.mark.parametrize("bad", ["../evil", "Pasig", "pa sig", "a--b", "-a", "", "x" * 65])
def test_new_pair_unsafe_id_refused(empty_params, bad):
    before = snapshot(empty_params)
    with pytest.raises(C3Error, match="not a safe id"):
        new_pair(bad, "pasig", empty_params)
    with pytest.raises(C3Error, match="not a safe id"):
        new_pair("taipei", bad, empty_params)
    assert snapshot(empty_params) == before


def test_new_pair_too_long_pair_id_refused(empty_params):
    with pytest.raises(C3Error, match="longer than 64"):
        new_pair("a" * 40, "b" * 40, empty_params)


def test_new_pair_same_city_refused(empty_params):
    with pytest.raises(C3Error, match="both 'pasig'"):
        new_pair("pasig", "pasig", empty_params)


def test_new_pair_existing_pair_refused_without_force(known_params):
    path = known_params / "pairs/pasig-taipei.yaml"
    before = path.read_bytes()
    with pytest.raises(C3Error, match="already exists; use --force"):
        new_pair("taipei", "pasig", known_params)
    assert path.read_bytes() == before


def test_new_pair_force_overwrites_pair_only(known_params):
    cities = snapshot(known_params / "cities")
    result = new_pair("taipei", "pasig", known_params, focus=["bike-sharing"], force=True)
    assert [p.name for p in result.written] == ["pasig-taipei.yaml"]
    assert snapshot(known_params / "cities") == cities
    cat = load_catalog(known_params)
    first = cat.actions["bike-sharing"].steps[0].id
    assert cat.pairs["pasig-taipei"].progress["bike-sharing"][first].status == "not-started"


def test_new_pair_unknown_focus_refused(empty_params):
    with pytest.raises(C3Error, match="unknown focus action 'bikes'"):
        new_pair("taipei", "pasig", empty_params, focus=["bikes"])
    assert not list((empty_params / "cities").iterdir())
    assert not list((empty_params / "pairs").iterdir())


def test_new_pair_value_out_of_range_refused(empty_params):
    with pytest.raises(C3Error, match=r"profile.population: 0 is outside the allowed range"):
        new_pair("taipei", "pasig", empty_params, values={"pasig": {"population": 0}})
    assert not list((empty_params / "cities").iterdir())


def test_new_pair_values_for_known_city_refused(known_params):
    with pytest.raises(C3Error, match="already has a city file"):
        new_pair("kaohsiung", "pasig", known_params, values={"pasig": {"population": 9}})


def test_new_pair_invalid_params_refused(known_params):
    (known_params / "cities/pasig.yaml").write_text("id: pasig\n", encoding="utf-8")
    with pytest.raises(ParamsErrors):
        new_pair("kaohsiung", "manila", known_params)
    assert not (known_params / "pairs/manila-kaohsiung.yaml").exists()


def test_new_pair_never_writes_outside_params(empty_params, tmp_path):
    # pairs/ is a link to a folder outside the params folder: loading may follow it,
    # writing must not
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (empty_params / "pairs").rmdir()
    (empty_params / "pairs").symlink_to(outside, target_is_directory=True)
    with pytest.raises(C3Error, match="outside the params folder"):
        new_pair("taipei", "pasig", empty_params)
    assert not list(outside.iterdir())
    assert not list((empty_params / "cities").iterdir())


def test_main_new_pair_then_validate(empty_params, capsys):
    code = main(
        ["new-pair", "taipei", "pasig", "--params", str(empty_params), "--focus", "bike-sharing"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"wrote {empty_params / 'pairs/pasig-taipei.yaml'}" in out
    assert "Still to fill" in out and "profile.latitude: placeholder" in out
    assert main(["validate", "--params", str(empty_params)]) == 0


def test_main_new_pair_plain_options_go_to_the_new_city(known_params, capsys):
    args = ["new-pair", "kaohsiung", "pasig", "--params", str(known_params)]
    args += ["--population", "2730000", "--latitude", "22.63", "--longitude", "120.3"]
    args += ["--area-km2", "2952", "--name", "Kaohsiung", "--country", "Taiwan"]
    assert main(args) == 0
    city = load_catalog(known_params).cities["kaohsiung"]
    assert [city.profile[n].value for n in REQUIRED] == pytest.approx(
        [2_730_000, 2952, 22.63, 120.3]
    )
    out = capsys.readouterr().out
    assert "profile.area_km2: value given without a source" in out


def test_main_new_pair_plain_options_ambiguous_when_both_new(empty_params, capsys):
    args = ["new-pair", "taipei", "pasig", "--params", str(empty_params), "--population", "5"]
    assert main(args) == 2
    assert "both cities are new" in capsys.readouterr().err
    assert not list((empty_params / "cities").iterdir())


def test_main_new_pair_role_options_when_both_new(empty_params):
    args = ["new-pair", "taipei", "pasig", "--params", str(empty_params)]
    args += ["--mentor-population", "2602418", "--learning-population", "803159"]
    args += ["--learning-name", "Pasig City"]
    assert main(args) == 0
    cat = load_catalog(empty_params)
    assert cat.cities["taipei"].profile["population"].value == 2602418
    assert cat.cities["pasig"].profile["population"].value == 803159
    assert cat.pairs["pasig-taipei"].name == "Pasig City–Taipei"


def test_main_new_pair_existing_pair_exit_2(known_params, capsys):
    assert main(["new-pair", "taipei", "pasig", "--params", str(known_params)]) == 2
    assert "already exists" in capsys.readouterr().err


def new_city_id(cat, base: str = "quezon-city") -> str:
    """A city id the catalog does not have yet."""
    ids = [base, *(f"{base}-{n}" for n in range(2, 100))]
    return next(cid for cid in ids if cid not in cat.cities)


def test_new_pair_in_repository_params(params_dir):
    # a copy of the repository's params: a new learning city paired with a known mentor
    before = load_catalog(params_dir)
    mentor = next(iter(before.pairs.values())).mentor
    learning = new_city_id(before)
    result = new_pair(mentor, learning, params_dir, focus=["bike-sharing"])
    pid = f"{learning}-{mentor}"
    assert [p.name for p in result.written] == [f"{learning}.yaml", f"{pid}.yaml"]
    cat = load_catalog(params_dir)
    name = " ".join(w.capitalize() for w in learning.split("-"))
    assert cat.pairs[pid].name == f"{name}–{cat.cities[mentor].name}"
    assert len(cat.pairs) == len(before.pairs) + 1
    assert len(cat.cities) == len(before.cities) + 1


def test_required_fields_from_actions(params_dir):
    cat = load_catalog(params_dir)
    expected: dict[str, list[str]] = {}
    for a in cat.actions.values():
        for req in a.requires:
            expected.setdefault(req, []).append(a.id)
    assert required_fields(cat) == expected
    # the shipped declaration: the two transport workbooks need the grid factor
    assert required_fields(load_catalog(PARAMS))["profile.grid_ef"] == [
        "bike-sharing",
        "low-emission-development",
    ]


def test_city_yaml_required_field_written_as_placeholder():
    text, todo = city_yaml("pasig", requires={"profile.grid_ef": ["bike-sharing"]})
    q = yaml.safe_load(text)["profile"]["grid_ef"]
    assert (q["value"], q["unit"], q["quality"]) == (0, "kg CO2/kWh", "assumed")
    assert q["source"].startswith(PLACEHOLDER) and "bike-sharing" in q["source"]
    assert "profile.grid_ef: placeholder; required by bike-sharing; give the value " in "\n".join(
        todo
    )
    assert not any(ln.startswith("#") and " grid_ef:" in ln for ln in text.splitlines())


def test_new_pair_required_field_from_country_file(params_dir):
    # a country with a file gives the field: no placeholder, but still listed to fill
    cat = load_catalog(params_dir)
    country = next(c for c in cat.countries.values() if "grid_ef" in c.values.get("profile", {}))
    learning = new_city_id(cat)
    mentor = next(iter(cat.pairs.values())).mentor
    result = new_pair(mentor, learning, params_dir, values={learning: {"country": country.name}})
    city = load_catalog(params_dir).cities[learning]
    assert "grid_ef" not in city.profile
    line = next(t for t in result.todo if "profile.grid_ef" in t)
    assert f"taken from countries/{country.id}.yaml (level country)" in line
