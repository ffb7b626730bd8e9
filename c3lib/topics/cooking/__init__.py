"""Reducing emissions from commercial cooking and grilling: model and presentation."""
