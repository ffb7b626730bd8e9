"""Interactive explorers: sliders over a workbook's key levers, redrawing a chart and a table.

An explorer is live in JupyterLab. Where no widget front end runs (papermill, the HTML
export) the same cell carries a static rendering of the chart and table at the current
control values, so a case study never shows an empty widget placeholder.

In a build (``$C3_STATIC_EXPLORERS`` is ``1`` in the kernels :mod:`c3lib.build` starts) the
static rendering is a small set of settings instead (:func:`one_at_a_time`: each control
moved across its range with the others as set, every option of a dropdown), drawn once
each, and the reader switches between them in the HTML with radio inputs and the
``:checked`` selector of ``templates/c3/static/c3.css``: no script, no kernel
(:func:`settings_html`).
"""

from __future__ import annotations

import html
import io
import itertools
import logging
import os
from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd

from c3lib.kit import labels
from c3lib.kit.casestudy import figure_html, figure_png, table_html

__all__ = [
    "Explorer",
    "choice",
    "control_values",
    "explorer",
    "one_at_a_time",
    "render",
    "setting_text",
    "settings_html",
    "slider",
]

log = logging.getLogger("c3lib")

Update = Callable[..., tuple[object, pd.DataFrame]]


FORM_STYLE = {"description_width": "initial"}
FORM_LAYOUT = {"width": "min(100%, 40em)"}
# the chart and the table never overflow the output area (JupyterLab with the file browser
# open leaves about 750 px at 1280 px)
_FIT_IMG = '<img style="max-width:100%;height:auto" '
_SCROLL = '<div class="c3-explorer-table" style="max-width:100%;overflow-x:auto">{}</div>'
#: Set to ``1`` in the kernels a build starts: explorers then also draw their settings.
STATIC_EXPLORERS_ENV = "C3_STATIC_EXPLORERS"
#: At most this many settings per explorer (the default included); c3.css styles as many.
MAX_SETTINGS = 16
#: About this many settings per explorer: each is a model call and a PNG in the page.
SETTINGS_BUDGET = 8
#: Values per slider (its value as set included), at least and at most.
SLIDER_VALUES = (3, 5)
_ids = itertools.count(1)  # explorer ids, unique within a kernel (and so within a page)


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


def _options(control) -> list[tuple[str, object]]:
    """A selection widget's options as (label, value) pairs."""
    return [o if isinstance(o, tuple) else (str(o), o) for o in control.options]


def _readout(control, value=None) -> str:
    """``value`` (default: the control's own) as the control shows it."""
    if value is None:
        value = control.value
    if hasattr(control, "options"):
        return next((str(lab) for lab, v in _options(control) if v == value), str(value))
    fmt = getattr(control, "readout_format", "")
    if isinstance(value, float) and fmt:
        return format(value, fmt)
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _description(name: str, control) -> str:
    return control.description or labels.label(name)


def setting_text(controls: dict, values: dict | None = None) -> str:
    """The controls' settings as a reader reads them: "Speed limit [kn]: 12, …".

    ``values`` (by control name) stand in for the controls' own values where given.
    """
    values = values or {}
    return ", ".join(
        f"{_description(name, c)}: {_readout(c, values.get(name))}" for name, c in controls.items()
    )


def _on_step(control, x: float):
    """``x`` rounded to the control's step grid (from its minimum), inside its range."""
    step = control.step or (control.max - control.min) or 1
    x = control.min + round((x - control.min) / step) * step
    x = min(max(x, control.min), control.max)
    if isinstance(control.value, int) and not isinstance(control.value, bool):
        return int(round(x))
    decimals = len(f"{step:g}".partition(".")[2]) + 6  # float noise off, the grid kept
    return round(float(x), decimals)


def control_values(control, count: int = SLIDER_VALUES[1]) -> list:
    """The values a static explorer shows for one control, its own value included.

    A slider: ``count`` values on its step grid, spread evenly from its minimum to its
    maximum, one of them its current value (the spread value nearest to it gives way).
    A dropdown or other selection: every option. A checkbox: both states. Anything
    else: its current value only.

    Parameters
    ----------
    control : ipywidgets.ValueWidget
        The control.
    count : int, optional
        Values per slider, its own value included. [-]

    Returns
    -------
    list
        The values in the control's order (ascending for a slider).
    """
    value = control.value
    if hasattr(control, "options"):
        return [v for _, v in _options(control)]
    if isinstance(value, bool):
        return [value, not value]
    if not _is_slider(control) or count < 2:
        return [value]
    span = control.max - control.min
    spread = sorted({_on_step(control, control.min + span * i / (count - 1)) for i in range(count)})
    others = [v for v in spread if not _same(v, value)]
    while len(others) >= count:  # the value as set takes the place of its nearest neighbour
        inner = others[1:-1] or others
        others.remove(min(inner, key=lambda v: abs(v - value)))
    return sorted([*others, value])


def _is_slider(control) -> bool:
    return all(hasattr(control, a) for a in ("min", "max", "step")) and not (
        hasattr(control, "options") or isinstance(control.value, bool)
    )


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def one_at_a_time(controls: dict, budget: int = SETTINGS_BUDGET) -> list[tuple[str | None, dict]]:
    """The settings a static explorer draws: the controls as set, then one moved at a time.

    Every option of a dropdown; for the sliders, what the budget leaves, shared evenly:
    between :data:`SLIDER_VALUES` values each (their value as set included), down to two
    when there are many sliders. Never more than :data:`MAX_SETTINGS` settings.

    Parameters
    ----------
    controls : dict of str to ipywidgets.ValueWidget
        The explorer's controls, by the keyword its update function takes.
    budget : int, optional
        About this many settings in all, the default included. [-]

    Returns
    -------
    list of (str or None, dict)
        ``(None, values as set)`` first, then ``(name of the control moved, values)``.
    """
    base = {name: c.value for name, c in controls.items()}
    sliders = [n for n, c in controls.items() if _is_slider(c)]
    fixed = sum(len(control_values(c)) - 1 for n, c in controls.items() if n not in sliders)
    lo, hi = SLIDER_VALUES
    per_slider = 1 + max(0, budget - 1 - fixed) // max(1, len(sliders))
    per_slider = min(hi, per_slider if per_slider >= lo else 2)
    settings: list[tuple[str | None, dict]] = [(None, base)]
    for name, control in controls.items():
        for value in control_values(control, per_slider):
            if not _same(value, base[name]) and len(settings) < MAX_SETTINGS:
                settings.append((name, {**base, name: value}))
    return settings


def _compact_png(png: bytes) -> bytes:
    """The PNG with a palette of at most 256 colours: a chart's few colours survive, and
    the page carries a quarter of the bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    if image.mode == "RGBA" and image.getextrema()[3][0] == 255:
        image = image.convert("RGB")  # opaque: the alpha channel says nothing
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    buf = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(buf, format="PNG")
    return buf.getvalue()


def render(
    update: Update, values: dict, caption: str = "", settings: str = "", compact: bool = False
) -> str:
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
    compact : bool, optional
        Store the chart as a palette PNG (for a page that carries many of them).
    """
    fig, table = update(**values)
    png = figure_png(fig, dpi=80)
    if compact:
        png = _compact_png(png)
    if not settings:
        settings = ", ".join(
            f"{k} = {v:g}" if isinstance(v, int | float) else f"{k} = {v}"
            for k, v in values.items()
        )
    cap = caption or "Explorer"
    alt = f"{cap} at {settings}"
    figure = figure_html(png, f"{cap} ({settings})", alt).replace("<img ", _FIT_IMG, 1)
    return figure + _SCROLL.format(table_html(labels.relabel(table)))


def _draw(update: Update, values: dict, caption: str, settings: str) -> str:
    """One setting's chart and table, or in their place why it cannot be drawn."""
    try:
        return render(update, values, caption, settings, compact=True)
    except Exception as exc:  # noqa: BLE001 - a setting the model refuses says so in its panel
        log.warning("explorer could not draw at %s: %s", values, exc)
        return (
            f'<p class="c3-explorer-error">Cannot draw at {html.escape(settings)}: '
            f"{html.escape(f'{type(exc).__name__}: {exc}')}</p>"
        )


def settings_html(
    update: Update,
    controls: dict,
    caption: str = "",
    uid: str = "",
    budget: int = SETTINGS_BUDGET,
    first: str = "",
) -> str:
    """The explorer drawn at :func:`one_at_a_time`'s settings, switched by radio inputs.

    One radio input per setting (one group per explorer, the controls as set checked),
    a row of labels per control (its values; the value as set names the first setting),
    and one panel per setting with its chart, its table and its settings in words.
    ``c3.css`` shows the panel of the checked input: the page runs no script. Where no
    setting draws anything but what the first draws (a port's levers for a city with no
    port), the first alone, with a line saying so.

    Parameters
    ----------
    update : callable
        ``update(**values) -> (Figure, DataFrame)``.
    controls : dict of str to ipywidgets.ValueWidget
        The levers, by the keyword ``update`` takes; their values are the first setting.
    caption : str, optional
        Caption of the chart.
    uid : str, optional
        The explorer's id in the page (default: the next of this kernel's).
    budget : int, optional
        About this many settings, the first included. [-]
    first : str, optional
        The first setting's panel, already drawn (:meth:`Explorer.static_html` passes the
        explorer's own drawing, so the controls as set are not drawn twice).
    """
    uid = uid or f"c3x-{next(_ids)}"
    settings = one_at_a_time(controls, budget)
    base = settings[0][1]
    inputs, panels, drawn = [], [], []  # drawn: (panel body, its settings in words)
    index = {}  # (control moved, setting number) → the control's value there
    for i, (moved, values) in enumerate(settings):
        checked = " checked" if i == 0 else ""
        inputs.append(
            f'<input type="radio" class="c3-x-in c3-x-{i}" name="{uid}" id="{uid}-{i}"{checked}>'
        )
        text = setting_text(controls, values)
        body = first if i == 0 and first else _draw(update, values, caption, text)
        drawn.append((body, text))
        panels.append(f'<div class="c3-x-panel c3-x-{i}">{body}</div>')
        if moved is not None:
            index[moved, i] = values[moved]
    if all(_same_drawing(b, t, drawn[0]) for b, t in drawn[1:]):
        return (
            f'<div class="c3-explorer-static c3-explorer-moot">{drawn[0][0]}'
            '<p class="c3-x-intro">No lever of this explorer changes these results for this '
            "pair: it is shown as the workbook sets it.</p></div>"
        )
    rows = []
    for name, control in controls.items():
        labels_ = [(base[name], 0)] + [(v, i) for (n, i), v in index.items() if n == name]
        if len(labels_) < 2:
            continue
        labels_.sort(key=lambda vi: _sort_key(control, vi[0]))
        cells = "".join(
            f'<label for="{uid}-{i}" class="c3-x-{i}{" c3-x-as-set" if i == 0 else ""}">'
            f"{html.escape(_readout(control, v))}</label>"
            for v, i in labels_
        )
        rows.append(
            f'<div class="c3-x-control"><span class="c3-x-name">'
            f"{html.escape(_description(name, control))}</span> {cells}</div>"
        )
    title = caption or "Explorer"
    return (
        f'<div class="c3-explorer-static c3-explorer-sets" role="group" '
        f'aria-label="{html.escape(title)}: settings">'
        + "".join(inputs)
        + '<div class="c3-x-controls"><p class="c3-x-intro">Choose a setting: one lever '
        "moves at a time, the others stay as the workbook sets them (underlined).</p>"
        + "".join(rows)
        + '</div><div class="c3-x-panels">'
        + "".join(panels)
        + "</div></div>"
    )


def _same_drawing(body: str, text: str, base: tuple[str, str]) -> bool:
    """Whether a setting's panel shows what the first one shows (its words apart)."""

    def bare(b: str, t: str) -> str:
        return b.replace(html.escape(t), "").replace(t, "")

    return bare(body, text) == bare(*base)


def _sort_key(control, value):
    if hasattr(control, "options"):
        order = [v for _, v in _options(control)]
        return order.index(value) if value in order else len(order)
    return value


def _static_settings() -> bool:
    return os.environ.get(STATIC_EXPLORERS_ENV) == "1"


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
        self._settings_html: tuple[tuple, str] | None = None  # (values drawn at, HTML)
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
                self._update,
                self.values,
                self._caption,
                setting_text(self._controls),
                compact=_static_settings(),  # also the first of static_html's settings
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

    def static_html(self, settings: bool | None = None) -> str:
        """The HTML a case study shows: the explorer as set, or at its settings.

        Parameters
        ----------
        settings : bool, optional
            Draw :func:`settings_html`'s switchable settings (default: in a build, where
            ``$C3_STATIC_EXPLORERS`` is ``1``), or only the chart and table as set.
        """
        if settings is None:
            settings = _static_settings()
        if not settings:
            return f'<div class="c3-explorer-static">{self._html}</div>'
        key = tuple(self.values.items())
        if self._settings_html is None or self._settings_html[0] != key:
            html_ = settings_html(self._update, self._controls, self._caption, first=self._html)
            self._settings_html = (key, html_)
        return self._settings_html[1]

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
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
