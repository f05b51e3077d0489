"""Stateful precompiles: native contracts that keep their state in their own EVM storage.

A precompile is written by declaring its methods and its storage fields:

- `abi`: the method table (`Signature`: name, inputs, outputs, mutability, in the order of the
  Solidity interface), `Method`, `Event` and `build_methods`;
- `storage`: `Storage` (the slots of one address), `Field`/`Key` (named families of slots),
  `FieldWords` (typed reads and writes of fields), `DictWords` (slots laid out at genesis);
- `gas`: the EVM costs a schedule is built from and `GasRule`, charged before any write;
- `dispatch`: `StatefulPrecompile` (selector dispatch, the call guards, decoding, gas, revert
  reasons), `Call` (what a handler sees), `MethodHandlers` and `declare_precompile`;
- `errors`: `PrecompileRevert`, raised by a handler to revert with a reason.

`attribution/` and `consensus/staking/` declare their precompiles with these pieces.
"""

from openledger.state.precompile.abi import (
    ERROR_SELECTOR,
    Event,
    Method,
    Signature,
    build_methods,
    hex_address,
)
from openledger.state.precompile.dispatch import (
    Call,
    MethodHandlers,
    StatefulPrecompile,
    declare_precompile,
)
from openledger.state.precompile.errors import PrecompileRevert
from openledger.state.precompile.gas import (
    CALL_BASE_GAS,
    LOG_DATA_GAS,
    LOG_GAS,
    LOG_TOPIC_GAS,
    SENDER_ARGUMENT,
    SLOT_READ_GAS,
    SLOT_WRITE_GAS,
    WORD_BYTES,
    GasRule,
    StoredCount,
    compute_chunk_count,
    compute_log_gas,
    compute_word_count,
)
from openledger.state.precompile.storage import (
    DictWords,
    Field,
    FieldWords,
    Key,
    Storage,
    Words,
)

__all__ = (
    "CALL_BASE_GAS",
    "ERROR_SELECTOR",
    "LOG_DATA_GAS",
    "LOG_GAS",
    "LOG_TOPIC_GAS",
    "SENDER_ARGUMENT",
    "SLOT_READ_GAS",
    "SLOT_WRITE_GAS",
    "WORD_BYTES",
    "Call",
    "DictWords",
    "Event",
    "Field",
    "FieldWords",
    "GasRule",
    "Key",
    "Method",
    "MethodHandlers",
    "PrecompileRevert",
    "Signature",
    "StatefulPrecompile",
    "Storage",
    "StoredCount",
    "Words",
    "build_methods",
    "compute_chunk_count",
    "compute_log_gas",
    "compute_word_count",
    "declare_precompile",
    "hex_address",
)
