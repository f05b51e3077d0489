"""How long to wait before redialling a peer: exponential back-off with jitter.

Doubling the delay keeps a dead peer from costing us a connection attempt every half second; the
jitter keeps the validators of a restarted devnet from redialling each other in lockstep.
"""

import random


def compute_backoff_delay(
    attempt: int, initial: float, maximum: float, rng: random.Random
) -> float:
    """Seconds to wait before attempt `attempt + 1` (`attempt` counts failures, from 0).

    The ceiling is `min(maximum, initial * 2**attempt)` and the delay is drawn uniformly from its
    upper half ("equal jitter"), so it never collapses to zero and never exceeds the ceiling.
    """
    # The exponent is clamped so that a peer dead for days does not overflow the float.
    ceiling = min(maximum, initial * 2.0 ** min(attempt, 64))
    return ceiling / 2 + rng.uniform(0.0, ceiling / 2)
