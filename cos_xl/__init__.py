"""cos_xl: quarterly reporting of the federal project «Цифровая образовательная среда» on Excel."""

__version__ = "0.1.0"
