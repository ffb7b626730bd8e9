"""Reducing emissions from port operations: ``model`` (science) and ``views`` (presentation)."""
