"""Public bike-sharing: the model (``model``) and its presentation (``views``)."""
