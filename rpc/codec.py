"""Hex encoding of JSON-RPC values, both ways.

Output follows the execution-apis schemas: quantities in minimal lower-case hex (`0x0`, `0x539`,
never `0x0539`), data as even-length lower-case hex, addresses in lower case (MetaMask compares
log addresses as lower-case strings). Input is parsed strictly, and every parser raises
`ValueError` with a short phrase that the dispatcher turns into an invalid-params error naming
the parameter.

JSON text itself goes through orjson both ways: it refuses nesting deeper than 1024 levels (the
standard library's C decoder recurses on the C stack, and py-evm's py_ecc raises the recursion
limit so far that a deep body crashes the process instead of raising), refuses NaN and the
infinities, and is faster.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
BLOCK_TAGS = ("latest", "pending", "earliest", "safe", "finalized")


def quantity(value: int) -> str:
    """An integer as a minimal hex quantity."""
    return hex(value)


def data(value: bytes) -> str:
    """Bytes as 0x-prefixed lower-case hex."""
    return "0x" + value.hex()


def address(value: bytes) -> str:
    """A 20-byte address in lower-case hex."""
    return "0x" + value.hex()


def word(value: int) -> str:
    """An integer as a 32-byte hex word (storage values, topics)."""
    return "0x" + value.to_bytes(32, "big").hex()


def decode_json(text: bytes | str) -> Any:
    """Parse JSON text; raises ValueError (orjson.JSONDecodeError) when it is not valid JSON."""
    return orjson.loads(text)


def decode_request_json(text: bytes | str) -> Any:
    """Parse a JSON-RPC payload, keeping integer ids beyond 64 bits exact.

    orjson reads an integer that does not fit 64 bits as a float, so such an id would be
    echoed as `1.8446744073709552e+19`. When a request's id came back a float, the text is read
    again with the standard library, which keeps integers exact; orjson has already refused
    what would make that unsafe (nesting deeper than 1024, bad syntax).
    """
    payload = orjson.loads(text)
    requests = payload if isinstance(payload, list) else (payload,)
    if any(isinstance(item, dict) and isinstance(item.get("id"), float) for item in requests):
        return json.loads(text)
    return payload


def encode_json(value: Any) -> str:
    """JSON text of a response; integers beyond 64 bits, which orjson refuses, go through json."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, allow_nan=False)


# --- parsing ------------------------------------------------------------------------------------


_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")


def parse_quantity(value: Any, maximum: int = UINT256_MAX) -> int:
    """A hex quantity: `0x` and hex digits only (no sign, `_` or spaces, which `int(_, 16)`
    would take). Leading zeros are tolerated: geth refuses them, but some tools send padded
    numbers and the value is unambiguous."""
    digits = _hex_digits(value)
    if not digits:
        raise ValueError('hex string "0x" has no digits')
    number = int(digits, 16)
    if number > maximum:
        raise ValueError(f"hex number {_clip(value)} is larger than {maximum.bit_length()} bits")
    return number


def parse_data(value: Any, *, max_length: int | None = None) -> bytes:
    """0x-prefixed hex of whole bytes."""
    if not isinstance(value, str):
        raise ValueError(f"expected a hex string, got {_kind(value)}")
    if not value.startswith(("0x", "0X")):
        raise ValueError("hex string without 0x prefix")
    if len(value) % 2:
        raise ValueError("hex string of odd length")
    raw = bytes.fromhex(_hex_digits(value))  # bytes.fromhex alone would skip spaces
    if max_length is not None and len(raw) > max_length:
        raise ValueError(f"hex data is {len(raw)} bytes, at most {max_length} allowed")
    return raw


def parse_fixed(value: Any, length: int) -> bytes:
    """Exactly `length` bytes of hex (hashes, addresses)."""
    raw = parse_data(value)
    if len(raw) != length:
        raise ValueError(
            f"hex string has length {len(raw) * 2}, want {length * 2} for {length} bytes"
        )
    return raw


def parse_address(value: Any) -> bytes:
    """A 20-byte address; checksum case is accepted but not required."""
    return parse_fixed(value, 20)


def parse_hash(value: Any) -> bytes:
    """A 32-byte hash."""
    return parse_fixed(value, 32)


def parse_slot(value: Any) -> int:
    """A storage slot: up to 32 bytes of hex, leading zeros allowed."""
    digits = _hex_digits(value)
    if len(digits) > 64:
        raise ValueError("storage slot is longer than 32 bytes")
    return int(digits or "0", 16)


def _hex_digits(value: Any) -> str:
    """The digits after `0x`, each a hex digit."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a hex string, got {_kind(value)}")
    if not value.startswith(("0x", "0X")):
        raise ValueError("hex string without 0x prefix")
    digits = value[2:]
    if not _HEX_DIGITS.fullmatch(digits):
        raise ValueError(f"invalid hex string {_clip(value)}")
    return digits


def parse_bool(value: Any) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_kind(value)}")
    return value


@dataclass(frozen=True, slots=True)
class BlockId:
    """A block parameter: a tag, a number, or a hash (EIP-1898)."""

    tag: str | None = None
    """One of `BLOCK_TAGS`."""
    number: int | None = None
    """A block number."""
    hash: bytes | None = None
    """A block hash."""
    require_canonical: bool = False
    """EIP-1898 `requireCanonical` (every stored block is canonical on this chain)."""


def parse_block_id(value: Any, *, allow_hash: bool = True) -> BlockId:
    """`"latest"`, a hex number, a block hash, or an EIP-1898 object."""
    if isinstance(value, str):
        if value in BLOCK_TAGS:
            return BlockId(tag=value)
        if allow_hash and len(value) == 66:
            return BlockId(hash=parse_hash(value))
        if not value.startswith(("0x", "0X")):
            raise ValueError(
                f"unknown block tag {_clip(value)}, expected {', '.join(BLOCK_TAGS)} or a hex number"
            )
        return BlockId(number=parse_quantity(value, UINT64_MAX))
    if isinstance(value, dict) and allow_hash:
        keys = set(value)
        if keys <= {"blockNumber"} and "blockNumber" in keys:
            return BlockId(number=parse_quantity(value["blockNumber"], UINT64_MAX))
        if keys <= {"blockHash", "requireCanonical"} and "blockHash" in keys:
            canonical = value.get("requireCanonical", False)
            return BlockId(
                hash=parse_hash(value["blockHash"]), require_canonical=parse_bool(canonical)
            )
        raise ValueError("a block object needs exactly one of blockNumber or blockHash")
    expected = "a block tag, number or hash" if allow_hash else "a block tag or number"
    raise ValueError(f"expected {expected}, got {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"{type(value).__name__} {_clip(str(value))}"


def _clip(text: str, limit: int = 24) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
