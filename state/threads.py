"""Blocking store work on a thread that outlives no cancellation.

A thread cannot be stopped. When the task waiting for one is cancelled (SIGTERM, a stopping
service), the thread goes on reading or writing LevelDB; if the node then closes the database,
plyvel frees what the thread still uses and the process dies with SIGSEGV. So a cancelled caller
first waits for its thread to finish, then lets the cancellation go on: the node closes the store
only after every such wait is over.
"""

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


async def run_blocking(
    executor: Executor | None, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Run `function` on `executor` (None: the loop's default) and wait for it, even when the
    caller is cancelled meanwhile."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(executor, partial(function, *args, **kwargs))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.wait([future])
        raise
