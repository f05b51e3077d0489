"""Fixtures of the staking tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from staking_helpers import StakingChain


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[StakingChain]:
    """A fresh staking chain: four equal genesis validators, ten funded accounts."""
    opened = StakingChain.open(tmp_path / "chain")
    try:
        yield opened
    finally:
        opened.close()
