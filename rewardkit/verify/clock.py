"""Clock times: ``14:05``, ``2:05 PM``, ``2:05 p.m.``, ``14:05:00`` as seconds after midnight.

Two answers that both read as clock times are compared as times, so ``3:30`` is not ``1:10``
(as ratios they would be equal); a time against anything else is left to the parser, which
reads ``a:b`` as a ratio.

>>> clock_seconds("2:05 PM") == clock_seconds("14:05:00"), clock_seconds("3:4")
(True, None)
"""

from __future__ import annotations

import re

__all__ = ["clock_seconds"]

_CLOCK = re.compile(r"\s*(\d{1,2}):([0-5]\d)(?::([0-5]\d))?\s*(?:([AaPp])\.?\s?[Mm]\.?)?\s*")


def clock_seconds(text: str) -> int | None:
    """Seconds after midnight of a clock time, or ``None`` when ``text`` is not one.
    Without AM/PM the hour is read on a 24-hour clock."""
    m = _CLOCK.fullmatch(text)
    if m is None:
        return None
    hours, minutes, seconds = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if m.group(4):
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if m.group(4) in "Pp" else 0)
    elif hours > 23:
        return None
    return hours * 3600 + minutes * 60 + seconds
