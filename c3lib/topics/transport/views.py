"""Presentation of the shared transport factors: their assumption records."""

from __future__ import annotations

from c3lib.topics.transport.model import mode_table

__all__ = ["assumption_rows"]


def assumption_rows(items: tuple[str, ...] | None = None) -> list[dict]:
    """The assumed (unsourced) rows of the transport table, as assumption records.

    Parameters
    ----------
    items : tuple of str, optional
        Only these vehicles, modes or fuels (default: every assumed row).

    Returns
    -------
    list of dict
        Keys ``city`` (``all``), ``input``, ``value``, ``unit``, ``basis``, ``source``, as
        :func:`c3lib.kit.casestudy.assumptions` takes them.
    """
    df = mode_table()
    df = df[df["quality"] == "assumed"]
    if items is not None:
        df = df[df["item"].isin(items)]
    return [
        {
            "city": "all",
            "input": f"{r.item} {r.quantity}",
            "value": r.value,
            "unit": r.unit,
            "basis": r.note if isinstance(r.note, str) and r.note else "unsourced estimate",
            "source": r.source,
        }
        for r in df.itertuples()
    ]
