"""Validation of the params folder: every bad input names its file and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from c3lib.cli import main
from c3lib.exceptions import ParamsError, ParamsErrors
from c3lib.params import city_inputs, load_catalog, read_yaml
from tests.conftest import PARAMS, edit_yaml


def errors_of(params_dir: Path) -> list[ParamsError]:
    with pytest.raises(ParamsErrors) as info:
        load_catalog(params_dir)
    return info.value.errors


def assert_error(params_dir: Path, file_part: str, field: str, pattern: str) -> None:
    errors = errors_of(params_dir)
    hits = [
        e
        for e in errors
        if file_part in e.file and e.field == field and re.search(pattern, e.message)
    ]
    assert hits, f"no error {file_part} / {field} / {pattern!r} in: {[str(e) for e in errors]}"


def test_load_catalog_repository_params_valid():
    cat = load_catalog(PARAMS)
    assert list(cat.actions) == [
        "emissions-inventory",
        "port-operations",
        "commercial-cooking",
        "bike-sharing",
        "low-emission-development",
    ]
    for pair in cat.pairs.values():
        assert {pair.mentor, pair.learning} <= set(cat.cities)


SHIPPED_PAIRS = (
    "pasig-taipei",
    "haiphong-kitakyushu",
    "bangkok-san-diego",
    "taichung-san-jose",
    "philadelphia-kaohsiung",
)


def test_load_catalog_shipped_pairs_present():
    # the shipped data: its five pairs and ten cities (a folder may add more with new-pair)
    cat = load_catalog(PARAMS)
    assert set(SHIPPED_PAIRS) <= set(cat.pairs)
    shipped = [cat.pairs[p] for p in SHIPPED_PAIRS]
    assert len({c for p in shipped for c in (p.mentor, p.learning)}) == 10
    for pair in shipped:
        assert pair.roles_basis == "assumed"  # no source names a mentor


def test_load_catalog_unknown_key(params_dir):
    edit_yaml(params_dir / "cities/pasig.yaml", lambda d: d.update(populaton=1))
    assert_error(params_dir, "cities/pasig.yaml", "populaton", "unknown field")


def test_load_catalog_unknown_profile_field(params_dir):
    edit_yaml(
        params_dir / "cities/pasig.yaml",
        lambda d: d["profile"].update(
            populaton={"value": 1, "unit": "persons", "source": "x", "quality": "official"}
        ),
    )
    assert_error(params_dir, "cities/pasig.yaml", "profile.populaton", "unknown field")


def test_load_catalog_missing_key(params_dir):
    edit_yaml(params_dir / "pairs/pasig-taipei.yaml", lambda d: d.pop("mentor"))
    assert_error(params_dir, "pairs/pasig-taipei.yaml", "mentor", "required")


def test_load_catalog_missing_required_profile_field(params_dir):
    edit_yaml(params_dir / "cities/taipei.yaml", lambda d: d["profile"].pop("population"))
    assert_error(params_dir, "cities/taipei.yaml", "profile.population", "required")


def test_load_catalog_wrong_type(params_dir):
    edit_yaml(
        params_dir / "cities/taipei.yaml",
        lambda d: d["profile"]["population"].update(value="two million"),
    )
    assert_error(params_dir, "cities/taipei.yaml", "profile.population.value", "number")


def test_load_catalog_negative_quantity(params_dir):
    edit_yaml(
        params_dir / "cities/taipei.yaml", lambda d: d["profile"]["area_km2"].update(value=-271.8)
    )
    assert_error(params_dir, "cities/taipei.yaml", "profile.area_km2.value", "negative")


def test_load_catalog_absurd_quantity(params_dir):
    edit_yaml(
        params_dir / "cities/taipei.yaml", lambda d: d["profile"]["population"].update(value=9e12)
    )
    assert_error(params_dir, "cities/taipei.yaml", "profile.population.value", "implausible")


def test_load_catalog_mismatched_unit(params_dir):
    edit_yaml(
        params_dir / "cities/taipei.yaml", lambda d: d["profile"]["area_km2"].update(unit="mi2")
    )
    assert_error(params_dir, "cities/taipei.yaml", "profile.area_km2.unit", "expected 'km2'")


def test_load_catalog_bad_quality_flag(params_dir):
    edit_yaml(
        params_dir / "cities/taipei.yaml",
        lambda d: d["profile"]["area_km2"].update(quality="guess"),
    )
    assert_error(params_dir, "cities/taipei.yaml", "profile.area_km2.quality", "official")


def test_load_catalog_unknown_city(params_dir):
    edit_yaml(params_dir / "pairs/pasig-taipei.yaml", lambda d: d.update(mentor="taipie"))
    assert_error(params_dir, "pairs/pasig-taipei.yaml", "mentor", "unknown city 'taipie'")


def test_load_catalog_unknown_action(params_dir):
    edit_yaml(
        params_dir / "pairs/pasig-taipei.yaml",
        lambda d: d["focus"][0].update(action="bike-shareing"),
    )
    assert_error(params_dir, "pairs/pasig-taipei.yaml", "focus[0].action", "unknown action")


def test_load_catalog_unknown_step(params_dir):
    edit_yaml(
        params_dir / "pairs/pasig-taipei.yaml",
        lambda d: d["progress"]["bike-sharing"].update({"goal": {"status": "done"}}),
    )
    assert_error(
        params_dir, "pairs/pasig-taipei.yaml", "progress.bike-sharing.goal", "unknown step"
    )


def test_load_catalog_duplicate_action_id(params_dir):
    edit_yaml(
        params_dir / "actions.yaml", lambda d: d["actions"][1].update(id="emissions-inventory")
    )
    assert_error(params_dir, "actions.yaml", "actions[1].id", "duplicate action id")


def test_load_catalog_duplicate_city_id(params_dir):
    text = (params_dir / "cities/taipei.yaml").read_text(encoding="utf-8")
    (params_dir / "cities/taipei-copy.yaml").write_text(text, encoding="utf-8")
    errors = errors_of(params_dir)
    assert any(
        "taipei" in e.file and e.field == "id" and "duplicate city id 'taipei'" in e.message
        for e in errors
    )


def test_load_catalog_duplicate_yaml_key(params_dir):
    path = params_dir / "cities/pasig.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "name: Pasig again\n", encoding="utf-8")
    assert_error(params_dir, "cities/pasig.yaml", "", "duplicate key 'name'")


@pytest.mark.parametrize(
    "bad_id", ["../etc", "Pasig", "pasig_taipei", "pasig/taipei", "-x", "pásig"]
)
def test_load_catalog_unsafe_id(params_dir, bad_id):
    edit_yaml(params_dir / "pairs/pasig-taipei.yaml", lambda d: d.update(id=bad_id))
    assert_error(params_dir, "pairs/pasig-taipei.yaml", "id", "not a safe id")


def test_load_catalog_malformed_yaml(params_dir):
    (params_dir / "cities/pasig.yaml").write_text("id: pasig\nname: [unclosed\n", encoding="utf-8")
    assert_error(params_dir, "cities/pasig.yaml", "", r"malformed YAML at line \d+")


def test_load_catalog_empty_file(params_dir):
    (params_dir / "cities/pasig.yaml").write_text("", encoding="utf-8")
    assert_error(params_dir, "cities/pasig.yaml", "", "file is empty")


def test_load_catalog_not_a_mapping(params_dir):
    (params_dir / "cities/pasig.yaml").write_text("- a\n- b\n", encoding="utf-8")
    assert_error(params_dir, "cities/pasig.yaml", "", "expected a mapping")


def test_load_catalog_very_large_file(params_dir):
    path = params_dir / "cities/pasig.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "#" * 1_100_000 + "\n", encoding="utf-8")
    assert_error(params_dir, "cities/pasig.yaml", "", "limit is")


def test_load_catalog_not_utf8(params_dir):
    (params_dir / "cities/pasig.yaml").write_bytes(b"id: pasig\nname: P\xe1sig\n")
    assert_error(params_dir, "cities/pasig.yaml", "", "not UTF-8")


def test_load_catalog_non_ascii_name_accepted(params_dir):
    edit_yaml(params_dir / "cities/pasig.yaml", lambda d: d.update(name="Lungsod ng Pásig 帕西格"))
    assert load_catalog(params_dir).cities["pasig"].name == "Lungsod ng Pásig 帕西格"


def test_read_yaml_python_tag_rejected(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="malformed YAML"):
        read_yaml(path)


def test_city_inputs_profile_values_are_own():
    cat = load_catalog(PARAMS)
    df = city_inputs(cat.cities["taipei"], "profile")
    assert df.loc["population", "own"]
    assert df.loc["population", "unit"] == "persons"


def test_main_validate_ok(capsys):
    cat = load_catalog(PARAMS)
    assert main(["validate", "--params", str(PARAMS)]) == 0
    assert f"{len(cat.pairs)} pairs, {len(cat.cities)} cities" in capsys.readouterr().out


def test_main_validate_reports_file_and_field(params_dir, capsys):
    edit_yaml(
        params_dir / "cities/taipei.yaml", lambda d: d["profile"]["area_km2"].update(value=-1)
    )
    assert main(["validate", "--params", str(params_dir)]) == 2
    err = capsys.readouterr().err
    assert "taipei.yaml: profile.area_km2.value: negative" in err
