"""Random test inputs that the judged code cannot predict, yet that a seed reproduces.

The Mersenne Twister of ``random.Random`` is no good here: its whole state can be rebuilt from a few hundred
of its outputs, and the code sees thousands of them (the inputs of the first calls) before the next call's
inputs are drawn. ``KeyedRandom`` instead draws every number from BLAKE2b in counter mode, keyed by the seed:
one output says nothing about the others, and the seed comes from ``os.urandom`` (``fresh_seed``) unless a
verdict is being reproduced.
"""

from __future__ import annotations

import hashlib
import random
import secrets

SEED_BITS = 64
BLOCK_BYTES = 64


def fresh_seed() -> int:
    """A new seed from the operating system's randomness."""
    return secrets.randbits(SEED_BITS)


class KeyedRandom(random.Random):
    """A ``random.Random`` (``uniform``, ``choice``, ``shuffle``... all work) whose numbers are a keyed hash
    of a counter: the same ``seed`` always gives the same numbers. Its state cannot be saved or restored."""

    def __init__(self, seed: int):
        super().__init__(seed)

    def seed(self, a: object = None, version: int = 2) -> None:
        """Start the stream of ``a``'s numbers (an int, or anything with a ``str``)."""
        self._key = hashlib.blake2b(str(a).encode("utf-8"), digest_size=32).digest()
        self._counter = 0
        self._pool = b""

    def getrandbits(self, k: int) -> int:
        byte_count = (k + 7) // 8
        return int.from_bytes(self._take(byte_count), "little") >> (byte_count * 8 - k)

    def random(self) -> float:
        return (int.from_bytes(self._take(7), "little") >> 3) * 2.0 ** -53

    def getstate(self) -> object:
        raise NotImplementedError("a KeyedRandom's state is its seed and how far it has read")

    def setstate(self, state: object) -> None:
        raise NotImplementedError("a KeyedRandom's state is its seed and how far it has read")

    def _take(self, byte_count: int) -> bytes:
        while len(self._pool) < byte_count:
            counter = self._counter.to_bytes(16, "little")
            self._pool += hashlib.blake2b(counter, key=self._key, digest_size=BLOCK_BYTES).digest()
            self._counter += 1
        taken, self._pool = self._pool[:byte_count], self._pool[byte_count:]
        return taken
