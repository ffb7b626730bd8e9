"""C3 Workbooks helper library: params, science by topic, pipeline and site."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("c3lib")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from c3lib.exceptions import C3Error  # noqa: E402

__all__ = ["C3Error", "__version__"]
