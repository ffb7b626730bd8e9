"""Low-emission urban development: the model (``model``) and its presentation (``views``)."""
