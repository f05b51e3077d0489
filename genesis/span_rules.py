"""The verbatim-span parameters of `openledger.attribution`: bounded so that a model can pin them
in one packed word, and consistent with each other (`load` calls `check_span_method`)."""

from openledger.genesis.errors import GenesisError
from openledger.genesis.model import AttributionParams

_SPAN_PINNED = ("min_span_bytes", "max_occurrences", "omission_bytes", "scoring_rule",
                "challenge_window", "bond_fee_multiple", "max_span_entries")  # fmt: skip
"""Span parameters a model pins in one packed word: 32 bits each."""
_SPAN_PINNED_MAX = (1 << 32) - 1
SCORING_RULES = (1,)
"""Known span scoring rules (1: new bytes)."""


def camel(snake: str) -> str:
    """The genesis key of a parameter's field name."""
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def check_span_method(attribution: AttributionParams) -> None:
    """The verbatim-span parameters: bounded so a model can pin them, and consistent."""
    for name in _SPAN_PINNED:
        if getattr(attribution, name) > _SPAN_PINNED_MAX:
            raise GenesisError(
                f"openledger.attribution.{camel(name)}", f"must be at most {_SPAN_PINNED_MAX}"
            )
    if attribution.omission_bytes < attribution.min_span_bytes:
        raise GenesisError(
            "openledger.attribution.omissionBytes",
            f"{attribution.omission_bytes} must be at least minSpanBytes "
            f"({attribution.min_span_bytes}): a shorter omission is not a span the record missed",
        )
    if attribution.scoring_rule not in SCORING_RULES:
        raise GenesisError(
            "openledger.attribution.scoringRule",
            f"{attribution.scoring_rule} is not a known rule (known: 1, new bytes)",
        )
    if attribution.max_span_entries < attribution.max_occurrences + 1:
        raise GenesisError(
            "openledger.attribution.maxSpanEntries",
            f"{attribution.max_span_entries} must be at least maxOccurrences + 1 "
            f"({attribution.max_occurrences + 1}): a boilerplate span carries that many entries",
        )
