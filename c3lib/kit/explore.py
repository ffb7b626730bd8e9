"""Interactive explorers: sliders over a workbook's key levers, redrawing a chart and a table.

An explorer is live in JupyterLab. Where no widget front end runs (papermill, the HTML
export) the same cell carries a static rendering of the chart and table at the current
control values, so a case study never shows an empty widget placeholder.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd

from c3lib.kit import labels
from c3lib.kit.casestudy import figure_html, figure_png, table_html

__all__ = ["Explorer", "choice", "explorer", "render", "setting_text", "slider"]

log = logging.getLogger("c3lib")

Update = Callable[..., tuple[object, pd.DataFrame]]


FORM_STYLE = {"description_width": "initial"}
FORM_LAYOUT = {"width": "min(100%, 40em)"}
# the chart and the table never overflow the output area (JupyterLab with the file browser
# open leaves about 750 px at 1280 px)
_FIT_IMG = '<img style="max-width:100%;height:auto" '
_SCROLL = '<div class="c3-explorer-table" style="max-width:100%;overflow-x:auto">{}</div>'


def _whole(x: float) -> bool:
    return float(x).is_integer()


def slider(
    code: str,
    value: float,
    min: float,
    max: float,
    step: float,
    description: str = "",
    tooltip: str = "",
) -> widgets.ValueWidget:
    """A slider that reads like a form field: full label with unit, readable readout.

    Parameters
    ----------
    code : str
        The quantity's code name; the label table (:mod:`c3lib.kit.labels`) gives its
        description and whether it is a share.
    value, min, max, step : float
        As for an ipywidgets slider. [the quantity's unit; a share as a fraction]
    description : str, optional
        Overrides the label table's description.
    tooltip : str, optional
        The long form shown on hover (default: the description).

    Returns
    -------
    ipywidgets.IntSlider or ipywidgets.FloatSlider
        An ``IntSlider`` where value and step are whole numbers (integer readout), a
        ``FloatSlider`` with a percentage readout for a share, otherwise with as many
        decimals as the step has.
    """
    text = description or labels.label(code)
    common = dict(
        description=text,
        tooltip=tooltip or text,
        style=FORM_STYLE,
        layout=FORM_LAYOUT,
        continuous_update=False,
    )
    share = labels.kind(code) == "share"
    if not share and all(_whole(x) for x in (value, min, max, step)):
        return widgets.IntSlider(
            value=int(value), min=int(min), max=int(max), step=int(step), **common
        )
    if share:
        decimals = len(f"{100 * step:g}".partition(".")[2])
        fmt = f".{decimals}%"
    else:
        fmt = f".{len(f'{step:g}'.partition('.')[2])}f"
    return widgets.FloatSlider(
        value=value, min=min, max=max, step=step, readout_format=fmt, **common
    )


def choice(code: str, options, value, description: str = "", tooltip: str = "") -> widgets.Dropdown:
    """A dropdown whose options show reader labels (``esp`` → "Electrostatic precipitator").

    Parameters
    ----------
    code : str
        The choice's code name (its description comes from the label table).
    options : iterable of str
        The option codes the update function takes.
    value : str
        The option chosen at first.
    """
    text = description or labels.label(code)
    return widgets.Dropdown(
        options=[(labels.label(o), o) for o in options],
        value=value,
        description=text,
        tooltip=tooltip or text,
        style=FORM_STYLE,
        layout=FORM_LAYOUT,
    )


def _readout(control) -> str:
    if isinstance(control, widgets.Dropdown):
        return str(control.label)
    value = control.value
    fmt = getattr(control, "readout_format", "")
    if isinstance(value, float) and fmt:
        return format(value, fmt)
    return f"{value:,}" if isinstance(value, int) else str(value)


def setting_text(controls: dict) -> str:
    """The controls' settings as a reader reads them: "Speed limit [kn]: 12, …"."""
    return ", ".join(
        f"{c.description or labels.label(name)}: {_readout(c)}" for name, c in controls.items()
    )


def render(update: Update, values: dict, caption: str = "", settings: str = "") -> str:
    """Run ``update(**values)`` and return the chart and table as one HTML fragment.

    Parameters
    ----------
    update : callable
        ``update(**values) -> (matplotlib Figure, DataFrame)``.
    values : dict
        Control values by name.
    caption : str, optional
        Caption of the chart.
    settings : str, optional
        The settings as the reader sees them (default: ``name = value`` pairs).
    """
    fig, table = update(**values)
    png = figure_png(fig, dpi=80)
    if not settings:
        settings = ", ".join(
            f"{k} = {v:g}" if isinstance(v, int | float) else f"{k} = {v}"
            for k, v in values.items()
        )
    cap = caption or "Explorer"
    alt = f"{cap} at {settings}"
    figure = figure_html(png, f"{cap} ({settings})", alt).replace("<img ", _FIT_IMG, 1)
    return figure + _SCROLL.format(table_html(labels.relabel(table)))


class Explorer(widgets.VBox):
    """Controls plus an output area that redraws on every change.

    Parameters
    ----------
    update : callable
        ``update(**values) -> (Figure, DataFrame)``, a small pure function over c3lib calls.
    controls : dict of str to ipywidgets.ValueWidget
        The levers, by the keyword ``update`` takes.
    caption : str, optional
        Caption of the chart.
    """

    def __init__(self, update: Update, controls: dict, caption: str = "") -> None:
        self._update = update
        self._controls = controls
        self._caption = caption
        self._html = ""
        self.output = widgets.HTML()
        super().__init__(
            [widgets.VBox(list(controls.values())), self.output],
            layout=widgets.Layout(width="100%", max_width="100%", overflow="hidden"),
        )
        for control in controls.values():
            control.observe(self._redraw, names="value")
        self._redraw()

    @property
    def values(self) -> dict:
        """Current control values by name."""
        return {name: c.value for name, c in self._controls.items()}

    def _redraw(self, change=None) -> None:
        try:
            self._html = render(
                self._update, self.values, self._caption, setting_text(self._controls)
            )
        except Exception as exc:
            if change is None:  # the first drawing fails in the cell, where it shows
                raise
            # a slider move runs in a widget callback, whose errors do not show in the cell:
            # say so in place of the chart instead of leaving the last one standing
            log.warning("explorer could not redraw at %s: %s", self.values, exc)
            self._html = (
                '<p class="c3-explorer-error">Cannot draw at these settings: '
                f"{html.escape(f'{type(exc).__name__}: {exc}')}</p>"
            )
        self.output.value = self._html

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = f'<div class="c3-explorer-static">{self._html}</div>'
        return bundle


def explorer(update: Update, caption: str = "", **controls) -> Explorer:
    """Build an :class:`Explorer`; make it the last value of a cell to show it.

    Examples
    --------
    >>> explorer(lambda shore_power_uptake: (plot(...), table(...)),
    ...          shore_power_uptake=slider("shore_power_uptake", 0.5, 0, 1, 0.1))
    ... # doctest: +SKIP
    """
    return Explorer(update, controls, caption)
