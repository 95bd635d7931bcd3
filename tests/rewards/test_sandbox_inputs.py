"""The test inputs: fresh by default, reproduced by a seed, and unpredictable from the inputs already seen."""

from __future__ import annotations

import random

from runtime.rewards import MATMUL, KeyedRandom, fresh_seed

WORD = 0xFFFFFFFF


def test_a_seed_draws_the_same_inputs_again():
    seed = fresh_seed()
    assert MATMUL.benchmark_cases(KeyedRandom(seed)) == MATMUL.benchmark_cases(KeyedRandom(seed))
    assert MATMUL.benchmark_cases(KeyedRandom(seed)) != MATMUL.benchmark_cases(KeyedRandom(seed + 1))


def test_fresh_seeds_differ():
    assert len({fresh_seed() for _ in range(100)}) == 100


def test_numbers_cover_the_unit_interval_evenly():
    generator = KeyedRandom(7)
    numbers = [generator.random() for _ in range(20_000)]
    assert 0.0 <= min(numbers) < 0.001 and 0.999 < max(numbers) < 1.0
    assert abs(sum(numbers) / len(numbers) - 0.5) < 0.01


def test_the_mersenne_twister_replay_does_not_predict_keyed_inputs():
    """624 outputs rebuild a Mersenne Twister's state (the review's 15.7x cheat), not a KeyedRandom's."""
    for generator, predictable in ((random.Random(3), True), (KeyedRandom(3), False)):
        seen = [generator.getrandbits(32) for _ in range(624)]
        clone = random.Random()
        clone.setstate((3, tuple(_untemper(output) for output in seen) + (624,), None))
        predicted = [clone.getrandbits(32) for _ in range(10)]
        assert (predicted == [generator.getrandbits(32) for _ in range(10)]) is predictable


def _untemper(output: int) -> int:
    """The Mersenne Twister state word that tempers to ``output``."""
    value = _undo_right_shift(output, 18)
    value = _undo_left_shift(value, 15, 0xEFC60000)
    value = _undo_left_shift(value, 7, 0x9D2C5680)
    return _undo_right_shift(value, 11)


def _undo_right_shift(value: int, shift: int) -> int:
    result = value
    for _ in range(32 // shift + 1):
        result = value ^ (result >> shift)
    return result & WORD


def _undo_left_shift(value: int, shift: int, mask: int) -> int:
    result = value
    for _ in range(32 // shift + 1):
        result = value ^ ((result << shift) & mask)
    return result & WORD
