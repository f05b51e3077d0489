"""Where RPC handlers run heavy blocking work (EVM calls, gas estimates, proofs, log queries, fee
history). Cheap blocking reads (a block's transactions) go to the default executor instead, so
that they never wait behind a long call.

Such work is CPU-bound Python, so threads do not run it in parallel: they only take turns with
the event loop for the GIL, and each extra thread adds switching. A small pool of its own keeps
the loop answering (`eth_blockNumber`, `eth_sendRawTransaction`) while calls run, lets a second
call proceed while one long call runs, and keeps RPC work out of the default executor, where the
node's writer builds and commits blocks. Against the default executor (six threads on two
cores), two workers serve more `eth_call`s per second at less CPU per call (bench/README.md).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from openledger.state.threads import run_blocking

RPC_WORKERS = 2

_P = ParamSpec("_P")
_T = TypeVar("_T")

_pool = ThreadPoolExecutor(max_workers=RPC_WORKERS, thread_name_prefix="rpc-work")


async def offload(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run `function(*args, **kwargs)` on the RPC worker pool and wait for it."""
    return await run_blocking(_pool, function, *args, **kwargs)
