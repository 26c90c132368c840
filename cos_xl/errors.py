"""The one exception hierarchy of cos_xl.

Exceptions are for "cannot continue"; problems found in a returned workbook are findings (data),
not exceptions. Every message is meant for a person: it names the file, the key or the cell.
"""


class CosXlError(Exception):
    """Base of every error cos_xl raises on purpose."""


class SpecError(CosXlError):
    """A form specification (templates/*.toml) is broken."""


class ExprError(CosXlError):
    """An expression of the form specification cannot be parsed or is not allowed."""


class EvalError(CosXlError):
    """An expression could not be evaluated (for example a division by zero)."""


class ConfigError(CosXlError):
    """A campaign configuration is broken or incomplete."""


class SigningKeyError(CosXlError):
    """No usable signing key was given."""


class RegionError(CosXlError):
    """An unknown region code or a region that does not report in the period."""


class OfficeError(CosXlError):
    """LibreOffice could not be started or failed on a document."""


class OfficeUnavailable(OfficeError):
    """LibreOffice (or its Python-UNO bridge) is not installed on this machine."""
