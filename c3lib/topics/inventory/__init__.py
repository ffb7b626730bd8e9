"""Developing an emissions inventory: the model (``model``) and its presentation (``views``)."""
