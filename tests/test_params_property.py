"""Property-based: whatever a user writes in a city file, validation accepts it or names the fault.

Never a traceback from deep inside: either :func:`load_catalog` returns, or it raises
:class:`ParamsErrors` whose every error names a params file and a field.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c3lib.build.batch import run
from c3lib.build.plan import plan
from c3lib.exceptions import ParamsErrors
from c3lib.params import city_inputs, load_catalog
from c3lib.topics.inventory import model as inv
from tests.conftest import PARAMS, edit_yaml

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=8), scalars, max_size=3),
)
quantity_keys = st.sampled_from(["value", "unit", "year", "source", "quality", "note", "extra"])
profile_fields = st.sampled_from(
    [
        "population",
        "area_km2",
        "latitude",
        "longitude",
        "pm25_annual_mean",
        "grid_ef",
        "bogus_field",
    ]
)
top_keys = st.sampled_from(["id", "name", "country", "profile", "activity", "unknown"])


@st.composite
def mutations(draw):
    """A list of edits (path, new value) to apply to one city file."""
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["quantity", "top", "drop"]))
        if kind == "quantity":
            edits.append((("profile", draw(profile_fields), draw(quantity_keys)), draw(values)))
        elif kind == "top":
            edits.append(((draw(top_keys),), draw(values)))
        else:
            edits.append((("profile", draw(profile_fields)), None))
    return edits


def apply(data: dict, edits) -> dict:
    for path, new in edits:
        node = data
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if new is None and len(path) == 2:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = new
    return data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("prop")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=mutations(), city=st.sampled_from(["pasig", "taipei", "kaohsiung"]))
def test_load_catalog_accepts_or_names_file_and_field(scratch, edits, city):
    root = scratch / "params"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(PARAMS, root)
    path = root / "cities" / f"{city}.yaml"
    data = apply(yaml.safe_load(path.read_text(encoding="utf-8")), edits)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        cat = load_catalog(root)
    except ParamsErrors as exc:
        assert exc.errors
        for err in exc.errors:
            assert err.file.endswith(".yaml"), err
            assert err.message, err
            if err.file.endswith(f"{city}.yaml"):
                assert err.field or "YAML" in err.message or "empty" in err.message, err
        return
    for q in cat.cities[city].profile.values():
        assert math.isfinite(q.value)
    assert cat.cities[city].profile["population"].value >= 1
    # accepted params feed the science without error: finite, non-negative emissions
    values = city_inputs(cat.cities[city], "emissions-inventory")["value"].to_dict()
    emissions = inv.city_lines(values)["emissions"]
    assert emissions.map(math.isfinite).all() and (emissions >= 0).all()


@pytest.mark.slow
def test_accepted_extreme_params_run_the_workbook(params_dir, tmp_path):
    """Values at the edge of what validation accepts still give a case study."""

    def extreme(d):
        d["name"] = 'Pásig "quoted" \\ back\nslash'
        d["profile"]["population"]["value"] = 50_000_000  # the maximum accepted
        d["profile"]["area_km2"]["value"] = 0.1  # the minimum accepted

    edit_yaml(params_dir / "cities/pasig.yaml", extreme)
    cat = load_catalog(params_dir)
    (spec,) = plan(cat, tmp_path, pairs=["pasig-taipei"], actions=["emissions-inventory"])
    result = run(spec)
    assert result.status == "ok", result.error
