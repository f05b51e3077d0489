"""Fixtures of the attribution tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from attribution_helpers import Abi, AttributionChain, shipped_abis
from span_helpers import SpanStory, span_genesis, tell_span_story


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


@pytest.fixture
def story(tmp_path: Path, abi: Abi) -> Iterator[SpanStory]:
    """A chain with the verbatim-span story told (`span_helpers.tell_span_story`)."""
    opened = AttributionChain.open(tmp_path / "chain", abi, span_genesis())
    try:
        yield tell_span_story(opened, tmp_path)
    finally:
        opened.close()
