"""Explorers: a static rendering in the mime bundle, and a redraw when a control moves."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from c3lib.build.export import WIDGET_MIME, export_html
from c3lib.kit.explore import Explorer, choice, explorer, render, setting_text
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
