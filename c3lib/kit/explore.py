"""Interactive explorers: sliders over a workbook's key levers, redrawing a chart and a table.

An explorer is live in JupyterLab. Where no widget front end runs (papermill, the HTML
export) the same cell carries a static rendering of the chart and table at the current
control values, so a case study never shows an empty widget placeholder.
"""

from __future__ import annotations

import html
import io
import logging
from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd

from c3lib.kit.casestudy import figure_html, table_html

__all__ = ["Explorer", "explorer", "render"]

log = logging.getLogger("c3lib")

Update = Callable[..., tuple[object, pd.DataFrame]]


def render(update: Update, values: dict, caption: str = "") -> str:
    """Run ``update(**values)`` and return the chart and table as one HTML fragment.

    Parameters
    ----------
    update : callable
        ``update(**values) -> (matplotlib Figure, DataFrame)``.
    values : dict
        Control values by name.
    caption : str, optional
        Caption of the chart.
    """
    import matplotlib.pyplot as plt

    fig, table = update(**values)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    settings = ", ".join(
        f"{k} = {v:g}" if isinstance(v, int | float) else f"{k} = {v}" for k, v in values.items()
    )
    cap = caption or "Explorer"
    alt = f"{cap} at {settings}"
    return figure_html(buf.getvalue(), f"{cap} ({settings})", alt) + table_html(table)


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
        super().__init__([widgets.VBox(list(controls.values())), self.output])
        for control in controls.values():
            control.observe(self._redraw, names="value")
        self._redraw()

    @property
    def values(self) -> dict:
        """Current control values by name."""
        return {name: c.value for name, c in self._controls.items()}

    def _redraw(self, change=None) -> None:
        try:
            self._html = render(self._update, self.values, self._caption)
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
    >>> explorer(lambda share: (plot(share), table(share)),
    ...          share=widgets.FloatSlider(value=0.2, min=0, max=1, description="share"))
    ... # doctest: +SKIP
    """
    return Explorer(update, controls, caption)
