"""Value types shared by every folder.

Distinct names for the integers and byte strings that flow through the node, so a signature
says whether it wants a block number or a round, wei or gas.
"""

from typing import NewType

Address = NewType("Address", bytes)
"""A 20-byte account address, in canonical (raw bytes) form."""

Hash32 = NewType("Hash32", bytes)
"""A 32-byte Keccak-256 hash."""

Wei = NewType("Wei", int)
"""An amount of the native currency (OPEN), in its smallest unit."""

Gas = NewType("Gas", int)
"""An amount of EVM gas."""

BlockNumber = NewType("BlockNumber", int)
"""A block's height in the chain; genesis is 0."""

ChainId = NewType("ChainId", int)
"""The EIP-155 chain id."""

Round = NewType("Round", int)
"""A consensus round within one height; the first round is 0."""

Timestamp = NewType("Timestamp", int)
"""Seconds since the Unix epoch, as in block headers."""
