"""Independent, reproducible random streams derived from one seed."""

from __future__ import annotations

import random
import zlib

import numpy as np


def _entropy(seed: int, stream: str) -> list[int]:
    # A named stream keeps each generator stable when another module starts drawing more numbers.
    return [seed % (1 << 64), zlib.crc32(stream.encode())]


def numpy_rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(_entropy(seed, stream)))


def python_rng(seed: int, stream: str) -> random.Random:
    return random.Random(f"{seed}:{stream}")
