"""How one inference fee is split, to the wei.

Given the fee `F` (the whole `msg.value` of `recordInference`) and the genesis shares in basis
points:

1. protocol    = F * protocolFeeBps   // 10000
2. model owner = F * modelOwnerFeeBps // 10000
3. agent owner = F * agentOwnerFeeBps // 10000 when the inference names an agent, else 0
4. contributors' pool P = F - protocol - model owner - agent owner: the contributors take the
   rounding remainders of steps 1-3 and, when no agent is named, the agent owner's share.
5. contribution i with weight w_i of total W gets P * w_i // W; the remainder of these divisions
   (less than one wei per contribution) goes to the contribution with the largest weight, the
   first listed among equals.

So the payouts always sum to exactly F. All arithmetic is on integers.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from openledger.genesis.model import AttributionParams

BPS = 10_000
"""Basis points in a whole."""


@dataclass(frozen=True, slots=True)
class FeeSplit:
    """Where the wei of one inference fee go."""

    protocol: int
    """Handed to the protocol sink (validators and stakers, or the protocol account)."""
    model_owner: int
    """Accrued to the model's owner."""
    agent_owner: int
    """Accrued to the agent's owner (0 when no agent is named)."""
    contributions: tuple[int, ...]
    """Accrued to each contribution's contributor, in the order the contributions were given."""

    @property
    def contributors(self) -> int:
        """The contributors' pool: the sum of `contributions`."""
        return sum(self.contributions)

    @property
    def total(self) -> int:
        """Every payout together; always the fee."""
        return self.protocol + self.model_owner + self.agent_owner + self.contributors


def compute_fee_split(
    params: AttributionParams, fee: int, weights: Sequence[int], *, has_agent: bool
) -> FeeSplit:
    """Split `fee` by the genesis shares and the contributions' `weights` (all positive)."""
    if not weights or any(weight <= 0 for weight in weights):
        raise ValueError("weights must be positive and at least one")
    protocol = fee * params.protocol_fee_bps // BPS
    model_owner = fee * params.model_owner_fee_bps // BPS
    agent_owner = fee * params.agent_owner_fee_bps // BPS if has_agent else 0
    pool = fee - protocol - model_owner - agent_owner
    total_weight = sum(weights)
    parts = [pool * weight // total_weight for weight in weights]
    # max() returns the first of equal weights: the documented tie rule.
    heaviest = max(range(len(weights)), key=lambda index: weights[index])
    parts[heaviest] += pool - sum(parts)
    return FeeSplit(protocol, model_owner, agent_owner, tuple(parts))
