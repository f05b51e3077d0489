"""Random sequences of calls never create or destroy value.

Hypothesis draws sequences of Datanet, model, agent, inference, claim and transfer calls from
random senders with random (often invalid) arguments; each is mined in a block of its own. After
every block, over every account in the state trie:

    sum of balances == genesis supply + block rewards minted - base fees burned

and the precompiles hold exactly what they owe: the attribution precompile's balance is the sum
of pending rewards, the agents precompile's the sum of agent stakes.
"""

from pathlib import Path
from typing import Any

import pytest
from attribution_helpers import KEYS, PROTOCOL, Abi, AttributionChain, content
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openledger.attribution.layout import (
    AGENT_COUNT,
    AGENT_STAKE,
    PENDING,
    agents_of,
    rewards_of,
)
from openledger.genesis.model import AGENTS_ADDRESS, ATTRIBUTION_ADDRESS, ETHER

SENDERS = st.integers(min_value=0, max_value=9)
IDS = st.integers(min_value=0, max_value=5)
AMOUNTS = st.sampled_from([0, 1, 7, 10**15, 10**18 + 3])

# Inferences lean towards valid ones (the seeded model and agent, accepted contributions, enough
# fee), and are drawn more often than other calls, so that rewards accrue and get claimed.
VALID_CONTRIBUTIONS = st.lists(st.integers(1, 3), min_size=1, max_size=3, unique=True)
INFER = st.tuples(
    st.just("infer"), st.sampled_from([1, 1, 1, 1, 2]), st.sampled_from([0, 0, 1, 1, 2]),
    st.one_of(VALID_CONTRIBUTIONS, VALID_CONTRIBUTIONS, VALID_CONTRIBUTIONS,
              st.lists(IDS, min_size=0, max_size=4, unique=True)),
    st.integers(0, 3), st.sampled_from([10**15, 10**15 + 1, 10**18 + 3, 10**18 + 3, 1]),
)  # fmt: skip
CLAIM = st.tuples(st.just("claim"), SENDERS)
ACTIONS = st.one_of(
    INFER, INFER, INFER, CLAIM, CLAIM,
    st.tuples(st.just("create"), SENDERS, st.booleans()),
    st.tuples(st.just("contribute"), SENDERS, IDS, st.integers(0, 6), st.integers(0, 5000)),
    st.tuples(st.just("review"), SENDERS, IDS, st.booleans()),
    st.tuples(st.just("publish"), SENDERS, IDS),
    st.tuples(st.just("flag"), SENDERS, IDS),
    st.tuples(st.just("model"), SENDERS, IDS, IDS, AMOUNTS),
    st.tuples(st.just("agent"), SENDERS, IDS, st.sampled_from([ETHER, 10 * ETHER, 11 * ETHER])),
    st.tuples(st.just("unstake"), SENDERS, IDS),
    st.tuples(st.just("withdraw"), SENDERS, IDS),
    st.tuples(st.just("transfer"), SENDERS, SENDERS, AMOUNTS),
    st.tuples(st.just("wait"), st.integers(1, 6)),
)  # fmt: skip


def _act(chain: AttributionChain, action: tuple[Any, ...], step: int) -> None:
    kind, *args = action
    if kind == "create":
        sender, public = args
        chain.send(KEYS[sender], "datanets", "createDatanet", f"d{step}", "", 0, public)
    elif kind == "contribute":
        sender, datanet, label, size = args
        chain.send(KEYS[sender], "datanets", "contribute", datanet, content(f"c{label}"), "", size)
    elif kind == "review":
        sender, contribution, accept = args
        chain.send(KEYS[sender], "datanets", "review", contribution, accept, 50)
    elif kind == "publish":
        chain.send(KEYS[args[0]], "datanets", "publishVersion", args[1])
    elif kind == "flag":
        chain.send(KEYS[args[0]], "datanets", "flag", args[1], "bad")
    elif kind == "model":
        sender, datanet, version, fee = args
        operator = KEYS[(sender + 1) % 9].address
        chain.send(KEYS[sender], "models", "registerModel", f"m{step}", "", [datanet],
                   [version], operator, fee, 0)  # fmt: skip
    elif kind == "agent":
        sender, model, stake = args
        chain.send(KEYS[sender], "agents", "registerAgent", model, "", value=stake)
    elif kind == "unstake":
        chain.send(KEYS[args[0]], "agents", "requestUnstake", args[1])
    elif kind == "withdraw":
        chain.send(KEYS[args[0]], "agents", "withdrawStake", args[1])
    elif kind == "infer":
        model, agent, contributions, skew, value = args
        operator = _operator_of(chain, model)
        weights = [1 + skew * index for index in range(len(contributions))]
        sent = chain.send(operator, "attribution", "recordInference", model, agent,
                          content(f"i{step}"), contributions, weights, bytes(32), value=value)  # fmt: skip
        event("an inference was recorded" if sent.ok else "an inference was refused")
    elif kind == "claim":
        sent = chain.send(KEYS[args[0]], "attribution", "claim")
        event("a claim paid" if sent.ok else "a claim was refused")
    elif kind == "transfer":
        sender, receiver, amount = args
        chain.send_data(KEYS[sender], KEYS[receiver].address, b"", value=amount, gas=21_000)
    else:
        for _ in range(args[0]):
            chain.mine()


def _operator_of(chain: AttributionChain, model: int) -> Any:
    result = chain.simulate(bytes(20), chain.targets["models"],  # type: ignore[arg-type]
                            chain.abi.encode("models", "getModel", model))  # fmt: skip
    if not result.success:
        return KEYS[0]
    operator = chain.abi.decode("models", "getModel", result.output)[3]
    return next((key for key in KEYS if key.address == operator), KEYS[0])


def _check_conservation(chain: AttributionChain) -> None:
    assert chain.total_supply() == chain.genesis_supply() + chain.issued - chain.burned
    state = chain.state()
    rewards, agents = rewards_of(state), agents_of(state)
    accounts = {key.address for key in KEYS} | {PROTOCOL}
    owed = sum(rewards.get(PENDING, account) for account in accounts)
    assert state.get_balance(ATTRIBUTION_ADDRESS) == owed
    stakes = sum(agents.get(AGENT_STAKE, agent) for agent in range(1, agents.get(AGENT_COUNT) + 1))
    assert state.get_balance(AGENTS_ADDRESS) == stakes


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(ACTIONS, min_size=8, max_size=24))
def test_random_calls_neither_create_nor_destroy_value(
    tmp_path_factory: pytest.TempPathFactory, abi: Abi, actions: list[tuple[Any, ...]]
) -> None:
    chain = AttributionChain.open(Path(tmp_path_factory.mktemp("conservation")), abi)
    try:
        chain.mine()
        # A valid start, so that the random calls reach deep states often.
        chain.send(KEYS[0], "datanets", "createDatanet", "seed", "", 0, True)
        for index in range(3):
            chain.send(KEYS[index + 1], "datanets", "contribute", 1, content(f"c{index}"), "", 1)
            chain.send(KEYS[0], "datanets", "review", index + 1, True, 50)
        chain.send(KEYS[0], "datanets", "publishVersion", 1)
        chain.send(KEYS[4], "models", "registerModel", "seed", "", [1], [1], KEYS[5].address,
                   10**15, 0)  # fmt: skip
        chain.send(KEYS[6], "agents", "registerAgent", 1, "", value=10 * ETHER)
        chain.send(KEYS[5], "attribution", "recordInference", 1, 1, content("seed"), [1, 2],
                   [2, 1], bytes(32), value=10**18)  # fmt: skip
        _check_conservation(chain)
        for step, action in enumerate(actions):
            _act(chain, action, step)
            _check_conservation(chain)
        for key in KEYS:  # everyone claims what is owed, and the books still balance
            _act(chain, ("claim", KEYS.index(key)), len(actions))
        _check_conservation(chain)
    finally:
        chain.close()


def test_the_invariant_sees_a_balance_created_out_of_nothing(tmp_path: Path, abi: Abi) -> None:
    """The check above can fail: minting one wei outside any rule breaks it."""
    chain = AttributionChain.open(tmp_path / "forged", abi)
    try:
        chain.mine()
        _check_conservation(chain)
        chain.issued += 1
        with pytest.raises(AssertionError):
            _check_conservation(chain)
    finally:
        chain.close()
