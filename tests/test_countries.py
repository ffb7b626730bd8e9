"""The fallback order of inputs (city → region → country → global), country files,
published figures and measures in params, and the comparison with published figures."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from c3lib.params import Published, city_inputs, load_catalog
from c3lib.reference import field_table
from c3lib.topics.comparison import compare, our_value
from tests.conftest import PARAMS, edit_yaml
from tests.test_params import assert_error

SOURCE = "Test statistics. Test Office, 2024. https://example.org/stats"


def write_country(params_dir: Path, **values) -> None:
    folder = params_dir / "countries"
    folder.mkdir(exist_ok=True)
    data = {
        "id": "testland",
        "name": "Testland",
        "aliases": ["Republic of Testland"],
        "population": {
            "value": 10_000_000.0,
            "unit": "persons",
            "year": 2023,
            "source": SOURCE,
            "quality": "official",
        },
        "values": values,
    }
    (folder / "testland.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")


def national(value, unit, proxy, year=2022):
    return {
        "value": value,
        "unit": unit,
        "year": year,
        "source": SOURCE,
        "quality": "official",
        "proxy": proxy,
    }


def move_city_to_testland(params_dir: Path, city: str, drop: tuple[str, ...]) -> None:
    def change(d):
        d["country"] = "Republic of Testland"  # an alias
        for name in drop:
            d.get("activity", {}).get("emissions-inventory", {}).pop(name, None)

    edit_yaml(params_dir / f"cities/{city}.yaml", change)


@pytest.fixture
def testland(params_dir):
    write_country(
        params_dir,
        **{
            "emissions-inventory": {
                "cars": national(2_000_000.0, "vehicles", "population"),
                "car_km_per_yr": national(15_000.0, "km/yr", "none"),
            }
        },
    )
    move_city_to_testland(params_dir, "pasig", ("cars", "car_km_per_yr", "motorcycles"))
    return params_dir


def test_city_inputs_country_total_downscaled_by_population(testland):
    cat = load_catalog(testland)
    city = cat.cities["pasig"]
    country = cat.country_of(city)
    assert country is not None and country.id == "testland"
    df = city_inputs(city, "emissions-inventory", country)
    pop = city.profile["population"].value
    # 2,000,000 cars for 10,000,000 people: 0.2 per person
    assert df.loc["cars", "value"] == pytest.approx(0.2 * pop)
    assert df.loc["cars", "level"] == "country"
    assert df.loc["cars", "quality"] == "derived"
    assert "population share" in df.loc["cars", "note"]
    # an intensive value is used as it is, with its own quality
    assert df.loc["car_km_per_yr", "value"] == 15_000.0
    assert df.loc["car_km_per_yr", "level"] == "country"
    assert df.loc["car_km_per_yr", "quality"] == "official"
    assert df.loc["car_km_per_yr", "year"] == 2022


def test_city_inputs_own_value_beats_country(testland):
    def own(d):
        d.setdefault("activity", {}).setdefault("emissions-inventory", {})["cars"] = {
            "value": 123.0,
            "unit": "vehicles",
            "year": 2021,
            "source": SOURCE,
            "quality": "official",
            "level": "region",
            "note": "metro figure scaled by population",
        }

    edit_yaml(testland / "cities/pasig.yaml", own)
    cat = load_catalog(testland)
    city = cat.cities["pasig"]
    df = city_inputs(city, "emissions-inventory", cat.country_of(city))
    assert df.loc["cars", "value"] == 123.0
    assert df.loc["cars", "level"] == "region"
    assert bool(df.loc["cars", "own"])


def test_city_inputs_own_zero_beats_country_total(testland):
    # A city with no power plant enters 0 (as Taipei does); a falsy own value must still
    # win over the national total scaled by population (here 1e9 GJ × its share).
    write_country(
        testland,
        **{"emissions-inventory": {"power_gas_gj": national(1e9, "GJ/yr", "population")}},
    )

    def no_plant(d):
        d.setdefault("activity", {}).setdefault("emissions-inventory", {})["power_gas_gj"] = {
            "value": 0,
            "unit": "GJ/yr",
            "year": 2023,
            "source": SOURCE,
            "quality": "derived",
            "level": "city",
        }

    edit_yaml(testland / "cities/pasig.yaml", no_plant)
    cat = load_catalog(testland)
    city = cat.cities["pasig"]
    df = city_inputs(city, "emissions-inventory", cat.country_of(city))
    assert df.loc["power_gas_gj", "value"] == 0.0
    assert df.loc["power_gas_gj", "level"] == "city"
    assert df.loc["power_gas_gj", "quality"] == "derived"


def test_city_inputs_without_country_falls_to_global(testland):
    cat = load_catalog(testland)
    city = cat.cities["pasig"]
    df = city_inputs(city, "emissions-inventory", None)
    spec = field_table("emissions-inventory").loc["car_km_per_yr"]
    assert df.loc["car_km_per_yr", "level"] == "global"
    assert df.loc["car_km_per_yr", "quality"] == "assumed"
    assert df.loc["car_km_per_yr", "value"] == float(spec["default"])


def test_country_of_unknown_country_is_none(testland):
    cat = load_catalog(testland)
    edited = cat.cities["pasig"].model_copy(update={"country": "Atlantis"})
    assert cat.country_of(edited) is None


def test_pair_files_cover_country_files(testland):
    cat = load_catalog(testland)
    pair = next(p for p in cat.pairs.values() if "pasig" in (p.mentor, p.learning))
    assert "countries/testland.yaml" in cat.pair_files(pair.id)
    before = cat.pair_hash(pair.id)
    write_country(testland, **{"emissions-inventory": {}})
    assert load_catalog(testland).pair_hash(pair.id) != before


def test_every_input_comes_from_the_city_its_country_or_global():
    """No input of a city is resolved from another country's city (any params folder)."""
    cat = load_catalog(PARAMS)
    sections = ["profile", *cat.actions]
    for city in cat.cities.values():
        country = cat.country_of(city)
        own = {"profile": city.profile, **city.activity}
        for section in sections:
            try:
                df = city_inputs(city, section, country)
            except KeyError:
                continue  # a section without a field table
            profile_scaled = set(field_table(section).query("scale == 'profile'").index)
            for name, row in df.iterrows():
                if row["level"] in ("city", "region"):
                    # a profile-scaled field of an action is the city's own profile value
                    where = "profile" if name in profile_scaled else section
                    assert name in own.get(where, {}), (city.id, section, name)
                elif row["level"] == "country":
                    assert country is not None and country.matches(city.country)
                    assert name in country.values[section]  # noqa: PD011 - not pandas
                else:
                    assert row["level"] == "global" and not row["own"]


def test_global_defaults_name_no_city_of_the_catalog():
    """A documented global default is never one city's figure applied to another."""
    cat = load_catalog(PARAMS)
    names = {c.name for c in cat.cities.values()}
    for section in ["profile", *cat.actions]:
        try:
            table = field_table(section)
        except KeyError:
            continue
        for field, spec in table.iterrows():
            text = f"{spec['default_source']} {spec['default_note']}"
            if pd.isna(spec["default"]):
                continue
            used = [n for n in names if n in text]
            assert not used, f"{section}.{field}: default borrowed from {used}"


def test_country_file_unknown_field(params_dir):
    write_country(params_dir, **{"emissions-inventory": {"carz": national(1.0, "x", "none")}})
    assert_error(
        params_dir,
        "countries/testland.yaml",
        "values.emissions-inventory.carz",
        "unknown field",
    )


def test_country_file_bad_proxy(params_dir):
    bad = national(1.0, "vehicles", "households")
    write_country(params_dir, **{"emissions-inventory": {"cars": bad}})
    assert_error(
        params_dir, "countries/testland.yaml", "values.emissions-inventory.cars.proxy", "Input"
    )


def test_country_file_unit_mismatch(params_dir):
    bad = national(1.0, "cars", "population")
    write_country(params_dir, **{"emissions-inventory": {"cars": bad}})
    assert_error(
        params_dir,
        "countries/testland.yaml",
        "values.emissions-inventory.cars.unit",
        "expected 'vehicles'",
    )


def test_country_file_national_total_may_exceed_city_range(params_dir):
    big = national(280_000_000.0, "vehicles", "population")  # above a city's maximum
    write_country(params_dir, **{"emissions-inventory": {"cars": big}})
    load_catalog(params_dir)


def test_country_file_intensive_value_checked_against_range(params_dir):
    bad = national(9e9, "km/yr", "none")
    write_country(params_dir, **{"emissions-inventory": {"car_km_per_yr": bad}})
    assert_error(
        params_dir,
        "countries/testland.yaml",
        "values.emissions-inventory.car_km_per_yr.value",
        "implausible",
    )


def published(**kw):
    base = {
        "action": "emissions-inventory",
        "metric": "total_emissions",
        "pollutant": "PM2.5",
        "value": 100.0,
        "unit": "t/yr",
        "year": 2019,
        "source": SOURCE,
        "quality": "official",
    }
    return {**base, **kw}


def test_city_published_unknown_action(params_dir):
    edit_yaml(
        params_dir / "cities/pasig.yaml",
        lambda d: d.update(published=[published(action="flying-cars")]),
    )
    assert_error(params_dir, "cities/pasig.yaml", "published[0].action", "unknown action")


def test_city_measure_end_before_start(params_dir):
    measure = {
        "action": "port-operations",
        "measure": "Vessel speed reduction",
        "lever": "vessel-speed-reduction",
        "start_year": 2010,
        "end_year": 2005,
        "source": SOURCE,
    }
    edit_yaml(params_dir / "cities/pasig.yaml", lambda d: d.update(measures=[measure]))
    assert_error(params_dir, "cities/pasig.yaml", "measures[0].end_year", "before start_year")


def test_city_measure_unknown_lever(params_dir):
    measure = {
        "action": "port-operations",
        "measure": "x",
        "lever": "teleport",
        "start_year": 2010,
        "source": SOURCE,
    }
    edit_yaml(params_dir / "cities/pasig.yaml", lambda d: d.update(measures=[measure]))
    assert_error(params_dir, "cities/pasig.yaml", "measures[0].lever", "Input")


def test_city_measure_year_out_of_range(params_dir):
    measure = {"action": "port-operations", "measure": "x", "start_year": 3010, "source": SOURCE}
    edit_yaml(params_dir / "cities/pasig.yaml", lambda d: d.update(measures=[measure]))
    assert_error(params_dir, "cities/pasig.yaml", "measures[0].start_year", "less than")


METRICS = [
    {"metric": "total_emissions", "pollutant": "PM2.5", "scope": "total", "value": 300.0,
     "unit": "t/yr"},
    {"metric": "sector_emissions", "pollutant": "PM2.5", "scope": "road-transport",
     "value": 120.0, "unit": "t/yr"},
]  # fmt: skip


def test_our_value_sector_share():
    fig = Published(**published(metric="sector_share", sector="road-transport", unit="fraction"))
    value, unit = our_value(METRICS, fig)
    assert value == pytest.approx(120 / 300) and unit == "fraction"


def test_compare_national_figure_scaled_by_population():
    # a national total of 50,000 t/yr for 100 M people, a city of 1 M: 500 t/yr published
    fig = Published(**published(value=50_000.0, proxy="population"))
    (c,) = compare("x", METRICS, [], [fig], population=1e6, national_population=1e8)
    assert c.published == pytest.approx(500.0)
    assert c.ratio == pytest.approx(300 / 500)
    assert c.level == "country"
    assert "Within a factor of two" in c.sentence and "scaled to the city" in c.sentence


def test_compare_ratio_outside_band_is_explained():
    fig = Published(**published(value=1000.0, note="all sources incl. industry"))
    (c,) = compare("x", METRICS, [fig], partial=["industry-power"])
    assert c.ratio == pytest.approx(0.3)
    assert "less than half" in c.sentence
    assert "industry-power (not estimated)" in c.sentence
    assert "all sources incl. industry" in c.sentence


def test_compare_unit_mismatch_not_compared():
    fig = Published(**published(unit="kt/yr"))
    (c,) = compare("x", METRICS, [fig])
    assert math.isnan(c.ratio) and c.sentence.startswith("Not compared")


def test_compare_sector_not_estimated_says_so():
    fig = Published(**published(metric="sector_share", sector="open-burning", unit="fraction"))
    (c,) = compare("x", METRICS, [fig], partial=["open-burning"])
    assert math.isnan(c.ratio) and "does not estimate open-burning" in c.sentence


def test_compare_metrics_from_a_dataframe_without_pollutant():
    # records of a metrics DataFrame carry NaN, not None, where a metric has no pollutant
    rows = [{"metric": "existing_bikes", "pollutant": math.nan, "scope": "documented",
             "value": 500.0, "unit": "bikes"}]  # fmt: skip
    fig = Published(**published(metric="bikeshare_bikes", pollutant=None, unit="bikes",
                                value=400.0, action="bike-sharing"))  # fmt: skip
    (c,) = compare("x", rows, [fig])
    assert c.ratio == pytest.approx(1.25)
