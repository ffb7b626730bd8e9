"""The science, one sub-package per action item, over params and the reference data.

Each topic keeps its ``model`` (pure functions and dataclasses over numbers and
DataFrames: no matplotlib, HTML or display) apart from its presentation. ``transport``
and ``uncertainty`` are models shared by several topics.
"""
