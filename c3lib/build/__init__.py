"""The build: plan and cache keys (``plan``), runs on workers and kernels (``run``,
``kernels``) or a cluster (``cluster``), the output store (``store``), batches (``batch``),
export to HTML (``export``), the site (``site``) and the editions (``editions``)."""
