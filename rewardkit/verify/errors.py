"""The error the safe math parser raises, with a machine-readable reason.

>>> MathParseError("unexpected token ')'", reason="syntax").reason
'syntax'
"""

from __future__ import annotations

__all__ = ["MathParseError"]


class MathParseError(ValueError):
    """Text that cannot be read as mathematics safely.

    ``reason`` is one of ``syntax`` (not valid math), ``too_long`` (input over the length
    limit), ``too_deep`` (nesting over the depth limit), ``too_large`` (a number that would
    be too big to compute, e.g. an exponent tower or a giant factorial) and ``unsupported``
    (a LaTeX command outside the known table).
    """

    def __init__(self, message: str, *, reason: str = "syntax") -> None:
        super().__init__(message)
        self.reason = reason
