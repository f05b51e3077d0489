"""Fixtures of the attribution tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from attribution_helpers import Abi, AttributionChain, shipped_abis


@pytest.fixture(scope="session")
def abi() -> Abi:
    """The shipped interfaces' ABIs, compiled once."""
    return Abi(shipped_abis())


@pytest.fixture
def chain(tmp_path: Path, abi: Abi) -> Iterator[AttributionChain]:
    """A fresh chain with the attribution precompiles and ten funded accounts."""
    opened = AttributionChain.open(tmp_path / "chain", abi)
    try:
        yield opened
    finally:
        opened.close()
