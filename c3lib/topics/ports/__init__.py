"""Reducing emissions from port operations: the model (``model``) and its presentation."""
