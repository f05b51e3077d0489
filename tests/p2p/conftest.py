"""Fixtures of the p2p tests."""

from collections.abc import AsyncIterator

import pytest_asyncio

from .harness import Cluster


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Cluster]:
    """Services started through this fixture are stopped (and checked) when the test ends."""
    running = Cluster()
    try:
        yield running
    finally:
        await running.close()
