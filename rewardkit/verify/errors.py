"""The errors of verification: the safe math parser's, with a machine-readable reason, and
a model server's that no request can get past.

>>> MathParseError("unexpected token ')'", reason="syntax").reason
'syntax'
>>> isinstance(ServerConfigError("HTTP 404"), RuntimeError)
True
"""

from __future__ import annotations

__all__ = ["MathParseError", "ServerConfigError"]


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


class ServerConfigError(RuntimeError):
    """A model server (a verifier's, a judge's) answered the first request in a way no
    request can get past: a wrong model name, a URL without ``/v1``, an unknown field.
    Raised at the first call and let through by every reward (a misconfigured server stops
    the run at once instead of failing silently at every step)."""
