"""C3 Workbooks: params and reference data, the science by topic (``topics``), the workbook
kit (``kit``), the build (``build``), and the ``c3`` command (``cli``, ``scaffold``)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("c3lib")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from c3lib.exceptions import C3Error  # noqa: E402

__all__ = ["C3Error", "__version__"]
