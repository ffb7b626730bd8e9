"""Exceptions raised by c3lib: one base, small subclasses."""

from __future__ import annotations

__all__ = ["C3Error", "ParamsError", "ParamsErrors", "ReferenceDataError", "RunError"]


class C3Error(Exception):
    """Base class of every error c3lib raises on purpose."""


class ParamsError(C3Error):
    """A params file is invalid.

    Parameters
    ----------
    file : str
        Path of the offending file, as the user gave it.
    field : str
        Dotted path of the offending field inside the file ("" for the whole file).
    message : str
        What is wrong and what was expected.
    """

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file = str(file)
        self.field = field
        self.message = message
        where = f"{self.file}: {field}" if field else self.file
        super().__init__(f"{where}: {message}")


class ParamsErrors(C3Error):
    """Several params errors found in one validation pass."""

    def __init__(self, errors: list[ParamsError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{len(self.errors)} error(s) in params:\n{lines}")


class ReferenceDataError(C3Error):
    """A reference table shipped with c3lib is missing a row or is malformed."""


class RunError(C3Error):
    """A notebook run failed (cell error, dead kernel, timeout)."""
