"""The README's gas table, read as the gas tests read it; `GasCheck`, which sends calls and compares
their receipts' gas with it; `WorkCounter`, which checks a call was charged at least its work."""

import re
from dataclasses import dataclass
from typing import Any

import pytest
from attribution_helpers import AttributionChain, expected_gas_used, intrinsic_gas
from helpers import REPO

from openledger.attribution.gas import PAY_GAS
from openledger.state.precompile import (
    CALL_BASE_GAS,
    SLOT_READ_GAS,
    SLOT_WRITE_GAS,
    Call,
    Storage,
    compute_log_gas,
)


@dataclass(frozen=True)
class Row:
    """One row of the README's gas table."""

    fixed: int
    per_word: int
    word_args: tuple[str, ...]
    per_item: int
    item_arg: str | None
    per_stored: int


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _read_table() -> dict[str, Row]:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## OpenLedger precompiles") :]
    section = section[section.index("### Gas") : section.index("\n## ")]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)` \| ([\d,]+) \|([^|]*)\|([^|]*)\|([^|]*)\|$", line)
        if not match:
            continue
        name, fixed, words, items, stored = (part.strip() for part in match.groups())
        word_gas, _, word_args = words.partition(":")
        item_gas, _, item_arg = items.partition(":")
        rows[name] = Row(
            _number(fixed),
            _number(word_gas) if words else 0,
            tuple(re.findall(r"`(\w+)`", word_args)),
            _number(item_gas) if items else 0,
            (re.findall(r"`(\w+)`", item_arg) or [None])[0],
            _number(stored.partition(":")[0]) if stored else 0,
        )
    return rows


TABLE = _read_table()
SPAN_METHODS = frozenset({
    "registerSpanModel", "addBond", "withdrawBond", "getAttributionMethod", "getSpanParams",
    "recordSpanInference", "lockedRewards", "getSpanInference", "challengeMismatch",
    "challengeBoundaries", "challengeEarlier", "challengeOmission",
})  # fmt: skip
"""The methods of verbatim-span attribution, whose gas `test_span_gas` checks."""


def _words(text: str | bytes) -> int:
    data = text.encode() if isinstance(text, str) else text
    return (len(data) + 31) // 32


class GasCheck:
    """Sends calls and compares their gas with the table."""

    def __init__(self, chain: AttributionChain) -> None:
        self.chain = chain
        self.checked: set[str] = set()
        self.mismatches: list[str] = []

    def call(self, key: Any, target: str, function: str, *args: Any, stored: int = 0,
             value: int = 0) -> Any:  # fmt: skip
        row = TABLE[function]
        inputs = [item["name"] for item in self.chain.abi.functions[(target, function)]["inputs"]]
        named = dict(zip(inputs, args, strict=True))
        execution = (
            row.fixed
            + row.per_word * sum(_words(named[arg]) for arg in row.word_args)
            + row.per_item * (len(named[row.item_arg]) if row.item_arg else 0)
            + row.per_stored * stored
        )
        data = self.chain.abi.encode(target, function, *args)
        sent = self.chain.send(key, target, function, *args, value=value)
        assert sent.ok, f"{function}: {sent.reason}"
        expected = expected_gas_used(data, execution)
        if sent.gas_used != expected:
            self.mismatches.append(f"{function}{args}: used {sent.gas_used}, table {expected}")
        self.checked.add(function)
        return sent.result


class WorkCounter:
    """Counts the distinct storage slots a call reads and writes, and its value payments."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads: set[tuple[bytes, int]] = set()
        self.writes: set[tuple[bytes, int]] = set()
        self.payments = 0
        get, set_, pay = Storage.get, Storage.set, Call.pay

        def counting_get(storage: Storage, slot: int) -> int:
            self.reads.add((storage.address, slot))
            return get(storage, slot)

        def counting_set(storage: Storage, slot: int, value: int) -> None:
            self.writes.add((storage.address, slot))
            set_(storage, slot, value)

        def counting_pay(call: Call, recipient: bytes, amount: int) -> None:
            self.payments += 1
            pay(call, recipient, amount)

        monkeypatch.setattr(Storage, "get", counting_get)
        monkeypatch.setattr(Storage, "set", counting_set)
        monkeypatch.setattr(Call, "pay", counting_pay)

    def reset(self) -> None:
        self.reads, self.writes, self.payments = set(), set(), 0

    def undercharged(self, chain: AttributionChain, key: Any, target: str, function: str,
                     args: tuple[Any, ...], value: int) -> list[str]:  # fmt: skip
        """Send the call; a line when the slots, payments and logs it touches cost more than the
        gas it was charged."""
        data = chain.abi.encode(target, function, *args)
        self.reset()
        simulated = chain.simulate(key.address, chain.targets[target], data, value=value)
        work = (len(self.reads) * SLOT_READ_GAS + len(self.writes) * SLOT_WRITE_GAS
                + self.payments * PAY_GAS)  # fmt: skip
        sent = chain.send(key, target, function, *args, value=value)
        assert simulated.success and sent.ok, (function, sent.reason)
        logs = sum(compute_log_gas(len(log.topics), len(log.data)) for log in sent.receipt.logs)
        charged = sent.gas_used - intrinsic_gas(data) - CALL_BASE_GAS
        return (
            [f"{function}: work {work + logs} > charged {charged}"] if work + logs > charged else []
        )
