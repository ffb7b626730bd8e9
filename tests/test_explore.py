"""Explorers: a static rendering in the mime bundle, and a redraw when a control moves."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from c3lib.build.export import WIDGET_MIME, export_html, sanitize_html
from c3lib.kit.explore import (
    MAX_SETTINGS,
    STATIC_EXPLORERS_ENV,
    Explorer,
    choice,
    control_values,
    explorer,
    one_at_a_time,
    render,
    setting_text,
    settings_html,
)
from c3lib.kit.explore import slider as form_slider

BASE = 100.0  # t/yr before the measure


def reduced(share: float, mode: str = "bus") -> tuple[plt.Figure, pd.DataFrame]:
    """Toy lever: emissions after a measure taken up by ``share`` of the fleet."""
    after = BASE * (1 - share)
    fig, ax = plt.subplots()
    ax.bar(["before", "after"], [BASE, after])
    table = pd.DataFrame({"emissions [t/yr]": [BASE, after]}, index=["before", "after"])
    table.index.name = mode
    return fig, table


def slider(value: float = 0.2) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=value, min=0, max=1, step=0.1, description="share")


@pytest.fixture(autouse=True)
def _no_figures_left():
    yield
    assert plt.get_fignums() == []  # every redraw closes its figure


def test_render_chart_and_table():
    # share 0.2: 100 t/yr × (1 − 0.2) = 80 t/yr after the measure
    html = render(reduced, {"share": 0.2, "mode": "bus"}, caption="Emissions")
    assert (
        '<figure class="c3-figure"><img style="max-width:100%;height:auto" '
        'src="data:image/png;base64,' in html
    )
    assert "Emissions (share = 0.2, mode = bus)" in html
    assert 'alt="Emissions at share = 0.2, mode = bus"' in html
    assert ">80</td>" in html and ">100</td>" in html


def test_render_escapes_values():
    html = render(reduced, {"share": 0.2, "mode": "<script>"})
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_explorer_mimebundle_has_static_fallback():
    ex = explorer(reduced, caption="Emissions", share=slider(0.2))
    bundle = ex._repr_mimebundle_()
    # live view for JupyterLab, static chart and table for papermill and the HTML export
    assert WIDGET_MIME in bundle and bundle[WIDGET_MIME]["model_id"] == ex.model_id
    static = bundle["text/html"]
    assert static.startswith('<div class="c3-explorer-static">')
    assert "data:image/png;base64," in static and ">80</td>" in static
    assert "share: 0.20" in static
    assert "Loading widget" not in static


def test_explorer_shows_default_state_at_once():
    ex = explorer(reduced, share=slider(0.3))
    assert ex.output.value  # never an empty output
    assert "share: 0.30" in ex.output.value and ">70</td>" in ex.output.value


def test_explorer_redraws_on_value_change():
    share = slider(0.2)
    ex = explorer(reduced, caption="Emissions", share=share)
    before = ex.output.value
    share.value = 0.5  # 100 × (1 − 0.5) = 50 t/yr
    assert ex.output.value != before
    assert "share: 0.50" in ex.output.value and ">50</td>" in ex.output.value
    assert ">50</td>" in ex._repr_mimebundle_()["text/html"]  # static copy follows


def test_explorer_passes_every_control_by_name():
    calls = []

    def update(share, mode):
        calls.append((share, mode))
        return reduced(share, mode)

    mode = widgets.Dropdown(options=["bus", "car"], value="bus")
    ex = Explorer(update, {"share": slider(0.2), "mode": mode})
    mode.value = "car"
    assert calls == [(0.2, "bus"), (0.2, "car")]
    assert ex.values == {"share": 0.2, "mode": "car"}  # noqa: PD011 - not pandas
    assert "Mode: car" in ex.output.value  # the label table names "mode"


def test_explorer_layout_controls_then_output():
    share = slider()
    ex = explorer(reduced, share=share)
    controls, output = ex.children
    assert controls.children == (share,) and output is ex.output


def test_explorer_exported_html_shows_chart_at_defaults():
    ex = explorer(reduced, caption="Emissions", share=slider(0.2))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explorer(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=ex._repr_mimebundle_())]
    nb.cells = [cell]
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}
    }
    page = export_html(nb)
    assert "c3-explorer-static" in page and "Emissions (share: 0.20)" in page
    assert "data:image/png;base64," in page
    assert "widget-view+json" not in page and "Loading widget" not in page


def fragile(share: float) -> tuple[plt.Figure, pd.DataFrame]:
    if share > 0.5:
        raise ValueError("uptake above 50 % is outside the method's range")
    return reduced(share)


def test_explorer_redraw_error_shown_in_place(caplog):
    share = slider(0.2)
    ex = explorer(fragile, share=share)
    share.value = 0.8
    assert "Cannot draw at these settings" in ex.output.value
    assert "ValueError: uptake above 50 % is outside the method&#x27;s range" in ex.output.value
    assert "<img" not in ex.output.value  # the stale chart is gone
    assert "explorer could not redraw" in caplog.text
    share.value = 0.3  # and it recovers
    assert ">70</td>" in ex.output.value


def test_explorer_first_draw_error_raises():
    with pytest.raises(ValueError, match="outside the method"):
        explorer(fragile, share=slider(0.9))


def test_slider_share_reads_as_percentage():
    control = form_slider("shore_power_uptake", 0.5, 0.0, 1.0, 0.1)
    assert isinstance(control, widgets.FloatSlider) and control.readout_format == ".0%"
    assert control.description == "Share of berth hours on shore power [%]"  # labels.csv
    assert control.tooltip == control.description
    assert control.style.description_width == "initial"
    assert format(control.value, control.readout_format) == "50%"


def test_slider_whole_step_is_integer():
    control = form_slider("vsr_speed_kn", 12.0, 6, 20, 1)
    assert isinstance(control, widgets.IntSlider) and control.value == 12
    assert control.description == "Speed limit in the reduced-speed zone [kn]"


def test_slider_decimal_step_keeps_its_decimals():
    control = form_slider("vkt_scale", 1.0, 0.5, 1.5, 0.05)
    assert control.readout_format == ".2f"
    share = form_slider("exhaust_control", 0.0, 0.0, 0.9, 0.05)
    assert share.readout_format == ".0%"  # 5 % steps: whole percentages


def test_choice_shows_reader_labels_passes_codes():
    control = choice("underfired_control", ["esp", "hepa_filter"], "esp")
    assert [v for _, v in control.options] == ["esp", "hepa_filter"]  # the update gets codes
    assert control.value == "esp"
    assert control.label == "Electrostatic precipitator"
    assert control.description == "Control on under-fired charbroilers"


def test_setting_text_uses_labels_and_readouts():
    controls = {
        "vsr_speed_kn": form_slider("vsr_speed_kn", 12, 6, 20, 1),
        "shore_power_uptake": form_slider("shore_power_uptake", 0.5, 0.0, 1.0, 0.1),
    }
    assert setting_text(controls) == (
        "Speed limit in the reduced-speed zone [kn]: 12, "
        "Share of berth hours on shore power [%]: 50%"
    )


def test_render_fits_output_area_and_labels_table():
    def update(shore_power_uptake):
        fig, _ = reduced(shore_power_uptake)
        return fig, pd.DataFrame({"value": [4.0]}, index=["berth_h"])

    html = render(update, {"shore_power_uptake": 0.5})
    assert '<img style="max-width:100%;height:auto" src="data:image/png' in html
    assert 'style="max-width:100%;overflow-x:auto"' in html
    assert "Hours at berth [h]" in html and "berth_h" not in html


def test_explorer_caption_built_from_labels():
    ex = explorer(
        lambda shore_power_uptake: reduced(shore_power_uptake),
        caption="Emissions",
        shore_power_uptake=form_slider("shore_power_uptake", 0.2, 0.0, 1.0, 0.1),
    )
    assert "Emissions (Share of berth hours on shore power [%]: 20%)" in ex.output.value
    assert "shore_power_uptake" not in ex.output.value


def _explorer_figures():
    """The bike-sharing and low-emission development explorer charts at extreme settings."""
    from c3lib.kit import casestudy as cs
    from c3lib.topics.bikeshare import views as bs_views
    from c3lib.topics.urban import model as urban
    from c3lib.topics.urban import views as urban_views

    case = cs.load_case("pasig-taipei", "bike-sharing", "")
    inputs = cs.inputs(case)
    city = inputs[inputs["role"] == "learning"].set_index("field")
    for bikes, rate in ((10, 0.2), (50_000, 12.0)):
        yield bs_views.what_if(city, 0.5, bikes, rate, 0.6)[0]
    case = cs.load_case("bangkok-san-diego", "low-emission-development", "")
    inputs, road = cs.inputs(case), cs.inputs(case, "emissions-inventory")
    road = road[(road["role"] == "learning") & road["field"].isin(urban.ROAD_INPUTS)]
    p = cs.profiles(case)["learning"]
    c = urban.city_transport(
        inputs[inputs["role"] == "learning"].set_index("field"),
        p["population"],
        p["grid_ef"],
        road.set_index("field"),
    )
    yield urban_views.what_if(c, urban.Levers(), 2025, 2035, 0.8, 1.0, 1.0, 1.0)[0]


def test_render_topic_explorer_figures_fixed_layout_nothing_clipped():
    # laid out once (no tight_layout, drawn once by figure_png); every tick label and title
    # inside the figure and clear of the other panels, the legend clear of every panel
    for fig in _explorer_figures():
        assert fig.get_layout_engine() is not None
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        for ax in fig.axes:
            ticks = [t.label1 for axis in (ax.xaxis, ax.yaxis) for t in axis._update_ticks()]
            for text in [*ticks, ax.title]:
                box = text.get_window_extent(r)
                assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)
                assert not any(box.overlaps(o.bbox) for o in fig.axes if o is not ax)
            assert ax.yaxis.get_offset_text().get_text() == ""  # plain labels, no "1e7"
        for legend in fig.legends:
            assert not any(legend.get_window_extent(r).overlaps(ax.bbox) for ax in fig.axes)
        plt.close(fig)


# --- Settings drawn at build time, switched in the HTML without a kernel -----------------


def test_control_values_slider_spread_keeps_value_as_set():
    # 5 values over 6…20 kn: 6, 9.5 → 10, 13, 16.5 → 16, 20; 12 as set takes 13's place
    control = form_slider("vsr_speed_kn", 12, 6, 20, 1)
    assert control_values(control) == [6, 10, 12, 16, 20]
    assert all(isinstance(v, int) for v in control_values(control))


def test_control_values_share_on_step_grid():
    # 0, 0.25 → 0.2, 0.5, 0.75 → 0.8, 1 (step 0.1); 0.5 as set is one of them
    control = form_slider("shore_power_uptake", 0.5, 0.0, 1.0, 0.1)
    assert control_values(control) == [0.0, 0.2, 0.5, 0.8, 1.0]
    assert control_values(control, 3) == [0.0, 0.5, 1.0]


def test_control_values_dropdown_every_option_checkbox_both():
    control = choice("underfired_control", ["esp", "hepa_filter", "none"], "hepa_filter")
    assert control_values(control) == ["esp", "hepa_filter", "none"]
    assert control_values(widgets.Checkbox(value=True)) == [True, False]
    assert control_values(widgets.Text(value="x")) == ["x"]


def test_one_at_a_time_moves_one_control_at_a_time():
    controls = {
        "vsr_speed_kn": form_slider("vsr_speed_kn", 12, 6, 20, 1),
        "shore_power_uptake": form_slider("shore_power_uptake", 0.5, 0.0, 1.0, 0.1),
    }
    settings = one_at_a_time(controls, budget=12)
    # as set, then 4 other speeds, then 4 other uptakes: 9 renders
    assert settings[0] == (None, {"vsr_speed_kn": 12, "shore_power_uptake": 0.5})
    assert [m for m, _ in settings[1:]] == ["vsr_speed_kn"] * 4 + ["shore_power_uptake"] * 4
    assert settings[1][1] == {"vsr_speed_kn": 6, "shore_power_uptake": 0.5}
    assert settings[5][1] == {"vsr_speed_kn": 12, "shore_power_uptake": 0.0}


def test_one_at_a_time_stays_within_budget():
    def sliders(n):
        return {f"s{i}": form_slider("vkt_scale", 1.0, 0.5, 1.5, 0.05) for i in range(n)}

    # budget 12: 3 sliders: 1 + 11 // 3 = 4 values each, 1 + 3 × 3 = 10 settings; 4: 3 each
    assert len(one_at_a_time(sliders(3), 12)) == 10
    assert len(one_at_a_time(sliders(4), 12)) == 1 + 4 * 2
    assert len(one_at_a_time(sliders(8), 12)) == 1 + 8 * 1  # many sliders: two values each
    assert len(one_at_a_time(sliders(20), 12)) == MAX_SETTINGS
    mixed = {
        "uptake": form_slider("uptake", 0.3, 0.0, 1.0, 0.05),
        "underfired_control": choice("underfired_control", ["esp", "hepa_filter", "none"], "esp"),
    }
    # the dropdown's 2 other options first, then 1 + 9 // 1 → at most 5 uptakes
    assert len(one_at_a_time(mixed, 12)) == 1 + 4 + 2


def test_one_at_a_time_default_budget_shipped_shapes():
    # SETTINGS_BUDGET 8: each setting is a model call and a chart in the build and the page
    speed = form_slider("vsr_speed_kn", 12, 6, 20, 1)
    uptake = form_slider("shore_power_uptake", 0.5, 0.0, 1.0, 0.1)
    port = one_at_a_time({"vsr_speed_kn": speed, "shore_power_uptake": uptake})
    # 1 + 7 // 2 = 4 values a slider: 6, 11 → 12 as set, 15, 20; 0, 0.3, 0.7 → 0.5 as set, 1
    assert [v["vsr_speed_kn"] for m, v in port if m == "vsr_speed_kn"] == [6, 15, 20]
    assert [v["shore_power_uptake"] for m, v in port if m == "shore_power_uptake"] == [0, 0.3, 1]
    assert len(port) == 7

    def sliders(n):
        return {f"s{i}": form_slider("vkt_scale", 1.0, 0.5, 1.5, 0.05) for i in range(n)}

    assert len(one_at_a_time(sliders(3))) == 1 + 3 * 2  # 1 + 7 // 3 = 3 values each
    assert len(one_at_a_time(sliders(4))) == 1 + 4 * 1  # 1 + 7 // 4 = 2 values each
    cooking = {
        **sliders(2),
        "underfired_control": choice("underfired_control", ["esp", "hepa_filter", "none"], "esp"),
    }
    assert len(one_at_a_time(cooking)) == 1 + 2 + 2 * 2  # 2 options, 1 + 5 // 2 = 3 a slider


def by_mode(share: float, mode: str) -> tuple[plt.Figure, pd.DataFrame]:
    """Toy lever of two controls: a car fleet emits twice a bus fleet's 100 t/yr."""
    fig, table = reduced(share, mode)
    if mode == "car":
        fig.axes[0].set_ylim(0, 2 * BASE)
        table = table * 2
    return fig, table


def _setting_controls():
    return {"share": slider(0.2), "mode": widgets.Dropdown(options=["bus", "car"], value="bus")}


def test_settings_html_one_panel_per_setting():
    page = settings_html(by_mode, _setting_controls(), caption="Emissions", uid="x1")
    # share 0, 0.5, 0.8, 1 besides 0.2 as set, and mode car: 6 settings
    assert page.count('<input type="radio"') == 6
    assert page.count('name="x1"') == 6
    assert page.count(" checked") == 1 and 'id="x1-0" checked' in page
    panels = re.findall(r'<div class="c3-x-panel c3-x-(\d+)">(.*?)</div></div>', page)
    assert [int(i) for i, _ in panels] == list(range(6))
    images = re.findall(r'src="(data:image/png;base64,[^"]+)"', page)
    assert len(set(images)) == 6  # every setting its own chart
    # after the measure: 100 × (1 − share) t/yr
    tables = re.findall(r"<table.*?</table>", page, re.S)
    assert len(set(tables)) == 6
    # after the measure: 100 × (1 − share) t/yr by bus; car at 0.2: 2 × 80 = 160 t/yr
    for i, after in enumerate([80, 100, 50, 20, 0, 160]):
        assert f">{after}</td>" in tables[i], i
    assert "Emissions (share: 0.80, Mode: bus)" in page  # each panel says its settings
    assert "Emissions (share: 0.20, Mode: car)" in page
    labels_for = re.findall(r'<label for="(x1-\d+)"', page)
    assert set(labels_for) == {f"x1-{i}" for i in range(6)}  # every input has its label
    assert labels_for.count("x1-0") == 2  # the setting as set, in each control's row


def test_settings_html_two_explorers_do_not_collide():
    # budget 3: the share as set, 0 and 1
    first = settings_html(reduced, {"share": slider(0.2)}, budget=3)
    second = settings_html(reduced, {"share": slider(0.2)}, budget=3)
    ids = re.findall(r'id="([^"]+)"', first) + re.findall(r'id="([^"]+)"', second)
    assert len(ids) == len(set(ids)) == 6
    names = {re.search(r'name="([^"]+)"', h).group(1) for h in (first, second)}
    assert len(names) == 2
    for page in (first, second):  # each label points into its own explorer
        own = set(re.findall(r'id="([^"]+)"', page))
        assert set(re.findall(r'<label for="([^"]+)"', page)) == own


def test_settings_html_survives_sanitiser():
    page = settings_html(by_mode, _setting_controls(), caption="Emissions", uid="x2")
    clean = sanitize_html(page)
    assert re.findall(r"<input [^>]*>", clean) == [
        f'<input type="radio" class="c3-x-in c3-x-{i}" name="x2" id="x2-{i}"'
        + (' checked=""' if i == 0 else "")
        + ">"
        for i in range(6)
    ]
    assert clean.count('<label for="x2-') == 7
    assert clean.count('class="c3-x-panel c3-x-') == 6 and clean.count("data:image/png") == 6
    assert 'class="c3-x-panels"' in clean and 'role="group"' in clean
    hostile = sanitize_html(
        '<input type="text" name="q" onfocus="alert(1)"><label for="q">x</label>'
    )
    assert hostile == '<label for="q">x</label>'  # no input but a radio


def test_settings_html_setting_that_fails_says_so():
    page = settings_html(fragile, {"share": slider(0.2)}, uid="x3")
    # 0.2 as set, 0, 0.5, 0.8 and 1: 0.8 and 1 are outside the method's range
    assert page.count('class="c3-x-panel c3-x-') == 5 and page.count("data:image/png") == 3
    assert "Cannot draw at share: 0.80: ValueError: uptake above 50 %" in page
    assert "Cannot draw at share: 1.00: ValueError: uptake above 50 %" in page


def test_settings_html_levers_that_change_nothing_show_the_chart_as_set():
    # a port's levers for a city with no port: every setting would draw the same chart
    def no_port(share: float) -> tuple[plt.Figure, pd.DataFrame]:
        return reduced(0.0)

    page = settings_html(no_port, {"share": slider(0.2)}, caption="Port", uid="x5")
    assert "c3-explorer-moot" in page and "c3-explorer-sets" not in page
    assert "<input" not in page and page.count("data:image/png") == 1
    assert "No lever of this explorer changes these results" in page
    # one lever that moves the numbers is enough for the settings
    moving = settings_html(reduced, {"share": slider(0.2)}, caption="Port", uid="x6")
    assert "c3-explorer-sets" in moving and "c3-explorer-moot" not in moving


def test_settings_html_charts_are_palette_pngs():
    page = settings_html(reduced, {"share": slider(0.2)}, uid="x4")
    png = base64.b64decode(re.search(r"base64,([^\"]+)", page).group(1))
    assert png[25] == 3  # PNG colour type 3: indexed, a quarter of an RGBA chart's bytes
    full = re.search(r"base64,([^\"]+)", render(reduced, {"share": 0.2})).group(1)
    assert len(png) < len(base64.b64decode(full))


def test_explorer_mimebundle_settings_in_build_only(monkeypatch):
    ex = explorer(reduced, caption="Emissions", share=slider(0.2))
    monkeypatch.delenv(STATIC_EXPLORERS_ENV, raising=False)
    assert "c3-x-panel" not in ex._repr_mimebundle_()["text/html"]  # JupyterLab: as set only
    monkeypatch.setenv(STATIC_EXPLORERS_ENV, "1")
    static = ex._repr_mimebundle_()["text/html"]
    assert static.startswith('<div class="c3-explorer-static c3-explorer-sets"')
    assert static.count('class="c3-x-panel c3-x-') == 5  # 0.2 as set, 0, 0.5, 0.8, 1
    assert ex._repr_mimebundle_()["text/html"] == static  # drawn once per setting
    ex._controls["share"].value = 0.5
    first = re.search(r'c3-x-panel c3-x-0">.*?</figcaption>', ex._repr_mimebundle_()["text/html"])
    assert "Emissions (share: 0.50)" in first.group(0)  # redrawn at the new values as set


def test_c3_css_styles_every_setting():
    css = (Path(__file__).resolve().parents[1] / "templates/c3/static/c3.css").read_text()
    for i in range(MAX_SETTINGS):
        assert f".c3-x-{i}:checked ~ .c3-x-panels > .c3-x-{i}" in css
        assert f".c3-x-{i}:checked ~ .c3-x-controls label.c3-x-{i}" in css
    assert f".c3-x-{MAX_SETTINGS}:" not in css
