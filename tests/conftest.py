"""Fixtures shared by every suite."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ThreadedNode


@pytest.fixture
def dev_node(tmp_path: Path) -> Iterator[ThreadedNode]:
    """A dev node (automine) in a background thread, on a free port, in a fresh data directory."""
    node = ThreadedNode(tmp_path / "node").start()
    try:
        yield node
    finally:
        node.stop()
