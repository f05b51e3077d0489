"""A cancelled caller of blocking store work waits for its thread, so the node never closes the
database under a thread still using it (that was a SIGSEGV in plyvel when a node stopped while a
block was being built)."""

import asyncio
import threading
import time

import pytest

from openledger.state.threads import run_blocking


async def test_a_cancelled_caller_returns_only_after_its_thread_is_done() -> None:
    finished = threading.Event()

    def work() -> None:
        time.sleep(0.3)
        finished.set()

    task = asyncio.create_task(run_blocking(None, work))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()


async def test_results_and_errors_pass_through() -> None:
    assert await run_blocking(None, divmod, 7, 2) == (3, 1)
    with pytest.raises(ZeroDivisionError):
        await run_blocking(None, divmod, 1, 0)
