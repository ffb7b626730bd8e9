"""Checks of the reference data before a build: the tables, and the factors topics need."""

from __future__ import annotations

from c3lib import reference
from c3lib.topics.cooking import model as cooking
from c3lib.topics.inventory import model as inventory

__all__ = ["check_all"]


def check_all() -> list[str]:
    """Every problem with the reference data, one line each (empty when there is none).

    :func:`c3lib.reference.check_reference` checks each table's form and sources; each
    topic model that needs particular factor rows says which are missing.
    """
    problems = reference.check_reference()
    for name, module in (("inventory", inventory), ("cooking", cooking)):
        problems += [f"c3lib/topics/{name}: {msg}" for msg in module.check_factors()]
    return problems
