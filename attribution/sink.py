"""Where the protocol share of an inference fee goes: an injection point of the rewards precompile.

The attribution precompile does not know who "the protocol" is. It calls a `ProtocolSink` with
the state and the protocol share of each fee; the node chooses the sink when it builds the chain's
precompiles (`node/chainspec.py`). Until staking distributes fees, the default `AccountSink`
accrues the share as a pending reward of the genesis `protocolAccount`, which claims it with
`claim()` like any other reward. A staking sink pays it to validators and delegators instead.
"""

from typing import Protocol

from eth.abc import StateAPI

from openledger.attribution.gas import PROTOCOL_SINK_GAS
from openledger.attribution.layout import PENDING, rewards_of
from openledger.genesis.types import Address


class ProtocolSink(Protocol):
    """Receives the protocol share of inference fees.

    Contract, which every sink must keep:

    - It is called as `sink(state, amount)` inside `recordInference` and `recordSpanInference`,
      after the checks and before the other shares accrue, once per inference, also with
      `amount == 0`; and once inside each proven challenge (`challenges`), with what the voided
      record forfeits and the slash beyond the challenger's reward.
    - The `amount` wei are in the attribution precompile's balance (`0x...0a04`) when it is
      called. The sink either leaves them there and records them as owed through the attribution
      precompile's `rewards.pending` field, or moves exactly `amount` out of that balance to where
      it records them (the staking precompile's, say). It creates and destroys no value.
    - It must be a deterministic function of the state and `amount` (every node runs it), must not
      call out to contracts, and must raise `state.precompile.PrecompileRevert` with a reason to
      refuse, which reverts the whole inference.
    - Its `gas` is what one call costs at most; the callers' schedules charge it before any write
      (`attribution.gas.compute_attribution_gas`, `attribution.span_gas.compute_span_gas`).
    """

    gas: int
    """Gas of one call, charged by `recordInference` on top of its own work."""

    def __call__(self, state: StateAPI, amount: int) -> None: ...


class AccountSink:
    """The default sink: the share accrues to `account`'s pending rewards."""

    gas = PROTOCOL_SINK_GAS
    """One read and one write of the pending reward."""

    def __init__(self, account: Address) -> None:
        self.account = account

    def __call__(self, state: StateAPI, amount: int) -> None:
        rewards_of(state).add(PENDING, self.account, delta=amount)
