"""Stable pseudo-random draws keyed by text, independent of call order and of the month range.

Used where a value must not change when more months are generated (a school's noise in a pupil's
name stays the same every month, a pupil's absences accumulate consistently through the year).
"""

from __future__ import annotations

import hashlib
import random


def u(seed: int, *parts: object) -> float:
    """A uniform number in [0, 1) fixed by the seed and the key parts."""
    h = hashlib.blake2b("|".join(map(str, (seed, *parts))).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def rng(seed: int, *parts: object) -> random.Random:
    """A `random.Random` stream fixed by the seed and the key parts."""
    return random.Random(int(u(seed, *parts) * 2**53))
