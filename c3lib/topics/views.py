"""Presentation shared by the topics' views: plain y tick labels and a fixed figure layout.

A figure laid out here is drawn once (no ``tight_layout`` pass measuring every label before
the drawing measures them again), which keeps an explorer's redraw fast.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["plain_y_ticks", "fixed_layout"]


@functools.lru_cache
def _char_width(char: str, size: float) -> float:
    """Advance of one character in the default font. [pt]"""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size)
    return text_to_path.get_text_width_height_descent(char, prop, ismath=False)[0]


def plain_y_ticks(ax) -> float:
    """Plain y tick labels (``12,500``, ``0.0002``: no offset, no power of ten).

    Call it once the y limits and the axes height are set: the labels measured are the ones
    the locator draws. Returns the width the widest label and its tick take. [pt]
    """
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import Formatter

    class Plain(Formatter):
        decimals = 0

        def set_locs(self, locs):
            super().set_locs(locs)
            locs = np.asarray(locs, dtype=float)
            step = np.diff(locs).min() if len(locs) > 1 else 0.0
            # the fewest decimals that write every tick exactly
            self.decimals = next(
                (d for d in range(12) if np.allclose(np.round(locs, d), locs, atol=step / 1e3)), 0
            )

        def __call__(self, x, pos=None):
            if abs(x) < 0.5 * 10.0**-self.decimals:
                x = 0.0  # no "−0"
            return self.fix_minus(f"{x:,.{self.decimals}f}")

    ax.yaxis.set_major_formatter(Plain())
    texts = ax.yaxis.get_major_formatter().format_ticks(ax.yaxis.get_major_locator()())
    size = FontProperties(size=mpl.rcParams["ytick.labelsize"]).get_size_in_points()
    # digits and separators do not kern: a label is as wide as its characters
    widest = max((sum(_char_width(c, size) for c in t) for t in texts), default=0.0)
    return widest + mpl.rcParams["ytick.major.size"] + mpl.rcParams["ytick.major.pad"]


def fixed_layout(fig, axes, left: float, right: float, gap: float) -> None:
    """Set the panels' horizontal margins and gap [pt]; the figure is then laid out as it is.

    A fixed layout costs nothing to draw, where ``tight_layout`` measures every label once
    more before the drawing measures them again.
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    width = fig.get_figwidth() * 72
    axes_width = (width - left - right - (len(axes) - 1) * gap) / len(axes)
    fig.subplots_adjust(left=left / width, right=1 - right / width, wspace=gap / axes_width)
    # a layout engine that does nothing: casestudy.figure_png draws the figure once, as laid
    # out here, instead of cropping it to its content with a second drawing
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))
