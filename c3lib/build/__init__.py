"""The build: plan and cache keys (``plan``), runs on workers and kernels (``run``,
``kernels``) or a cluster (``cluster``), the output store (``store``), batches (``batch``),
export to HTML (``export``), the site (``site``) and the editions (``editions``)."""

import sys

# jsonschema (under nbformat, papermill and nbconvert) imports the optional rfc3987_syntax
# package when it is installed (jupyterlab's dependencies install it), for the "iri"
# string formats, which no notebook schema uses; importing it builds a grammar and costs
# about 1.2 s of CPU in every build process. Marked absent, jsonschema skips those formats.
sys.modules.setdefault("rfc3987_syntax", None)
