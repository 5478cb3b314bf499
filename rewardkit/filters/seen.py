"""Have we seen this key before? A fixed-size Bloom filter, so that checks over inputs of
any length (are the rows of each prompt next to each other?) take constant memory.

>>> seen = SeenKeys()
>>> seen.add("prompt 1"), seen.add("prompt 2"), seen.add("prompt 1")
(False, False, True)
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["SeenKeys"]


class SeenKeys:
    """Keys added so far, as a Bloom filter of 8 MiB with 6 hashes.

    ``add`` never misses a key added before; it may wrongly say a new key was seen with
    probability (1 - e^(-6n/2^26))^6 after n keys (Bloom 1970): under one in a million
    per key up to a million keys.
    """

    _BITS = 1 << 26
    _HASHES = 6

    def __init__(self) -> None:
        self._bits = bytearray(self._BITS // 8)

    def add(self, key: Any) -> bool:
        """Add ``key``; true when it was (probably) added before."""
        digest = hashlib.blake2b(repr(key).encode(), digest_size=8 * self._HASHES).digest()
        seen = True
        for i in range(self._HASHES):
            bit = int.from_bytes(digest[8 * i : 8 * i + 8], "little") % self._BITS
            byte, mask = bit >> 3, 1 << (bit & 7)
            if not self._bits[byte] & mask:
                seen = False
                self._bits[byte] |= mask
        return seen
