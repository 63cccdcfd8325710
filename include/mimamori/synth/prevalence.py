"""Towns of other prevalences: the latent circumstances' base rates scaled for one generation.

``with scaled(1.5): generate(...)`` builds a town in which poverty, abuse/neglect, disability,
developmental disability, school refusal and postpartum depression are each about 1.5 times as
common (probabilities capped below 1); records still follow from the circumstances exactly as in
the default town (circumstances.py). The benchmark of issue #23 uses it to evaluate rules on towns
of different sizes *and* prevalences. The module constants are restored on exit, also on error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import circumstances as circ

_NAMES = ("P_DEV", "P_DISABILITY", "P_ABUSE", "P_REFUSAL", "P_PPD", "P_POVERTY")


def _scale(value, factor: float):
    if isinstance(value, dict):
        return {k: min(0.95, v * factor) for k, v in value.items()}
    return min(0.95, value * factor)


@contextmanager
def scaled(factor: float) -> Iterator[None]:
    if factor <= 0:
        raise ValueError("a prevalence factor is > 0")
    saved = {name: getattr(circ, name) for name in _NAMES}
    try:
        for name, value in saved.items():
            setattr(circ, name, _scale(value, factor))
        yield
    finally:
        for name, value in saved.items():
            setattr(circ, name, value)
