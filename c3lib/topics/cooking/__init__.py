"""Reducing emissions from commercial cooking and grilling: ``model`` (science) and ``views``."""
