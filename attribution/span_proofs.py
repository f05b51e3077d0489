"""Range proofs as the challenge methods take them (`bytes`), and the gas of checking them.

Encoding of a proof of content of `length` bytes (`IAttribution.sol`):

    uint256 length ‖ uint256 first ‖ uint256 siblingCount ‖ siblings (32 bytes each) ‖ chunks

where the chunks (those from index `first` on) are concatenated; their sizes follow from the
length (256 bytes, the content's last chunk the rest). The length travels with the proof because
the content root binds it: a proof that verifies against a root proves its length too, so a
declared size (of a contribution) or a recorded length (of an output) that is wrong cannot hide
the bytes from a challenge.

`challenge_call` turns an audit's challenge (`engine.audit`) into the method and arguments to
send, so that tools need no knowledge of this format.
"""

from collections.abc import Mapping, Sequence

from openledger.attribution.content import (
    CHUNK_SIZE,
    MAX_DEPTH,
    RangeProof,
    build_range_proof,
    compute_depth,
    count_chunks,
    count_proof_hashing,
)
from openledger.attribution.engine.audit import Boundaries, Challenge, Earlier, Mismatch, Omission
from openledger.attribution.engine.evidence import Entry, encode_evidence
from openledger.genesis.errors import OpenLedgerError

WORD = 32
HEAD_BYTES = 3 * WORD
KECCAK_CALL_WORDS = 5
"""A Keccak-256 call's 30 gas, in units of its 6 gas per word."""


class ProofFormatError(OpenLedgerError):
    """Proof bytes that do not decode (the message says why)."""


def encode_range_proof(length: int, proof: RangeProof) -> bytes:
    """The bytes of `proof` for content of `length` bytes."""
    head = b"".join(v.to_bytes(WORD, "big") for v in (length, proof.first, len(proof.siblings)))
    return head + b"".join(proof.siblings) + b"".join(proof.chunks)


def decode_range_proof(data: bytes) -> tuple[int, RangeProof]:
    """(content length, proof) of proof bytes; raises `ProofFormatError`."""
    if len(data) < HEAD_BYTES:
        raise ProofFormatError(f"{len(data)} bytes are shorter than a proof's three head words")
    length, first, count = (int.from_bytes(data[i : i + WORD], "big") for i in (0, 32, 64))
    if compute_depth(length) > MAX_DEPTH:
        raise ProofFormatError(f"content length {length} is beyond the deepest tree")
    end = HEAD_BYTES + WORD * count
    if end > len(data):
        raise ProofFormatError(f"{count} siblings do not fit in {len(data)} bytes")
    siblings = tuple(data[i : i + WORD] for i in range(HEAD_BYTES, end, WORD))
    total, chunks, index = count_chunks(length), [], first
    while end < len(data):
        if index >= total:
            raise ProofFormatError(f"the proof carries bytes past chunk {total - 1}, the last")
        size = CHUNK_SIZE if index < total - 1 else length - CHUNK_SIZE * index
        if end + size > len(data):
            raise ProofFormatError(f"chunk {index} is cut short")
        chunks.append(data[end : end + size])
        end, index = end + size, index + 1
    if not chunks:
        raise ProofFormatError("the proof carries no chunk")
    return length, RangeProof(first, tuple(chunks), siblings)


def count_proof_units(data: bytes) -> int:
    """Keccak-256 words (a call counting as 5) of verifying the proof bytes: 6 gas each. Bytes
    that do not decode count 0 (the call reverts before verifying them)."""
    try:
        length, proof = decode_range_proof(data)
    except ProofFormatError:
        return 0
    calls, words = count_proof_hashing(length, proof)
    return KECCAK_CALL_WORDS * calls + words


def challenge_call(
    challenge: Challenge,
    inference: int,
    entries: Sequence[Entry],
    output: bytes,
    contents: Mapping[int, bytes],
) -> tuple[str, tuple[object, ...]]:
    """(method, arguments) of `IAttribution` that submit `challenge` against record `inference`
    of `output` with evidence `entries`; `contents` holds the contributions' bytes."""
    evidence, out = encode_evidence(entries), len(output)
    match challenge:
        case Mismatch(entry, at, output_proof, contribution_proof):
            held = contents[entries[entry].contribution_id]
            if contribution_proof is None:  # the span does not fit: any chunk proves the length
                contribution_proof = build_range_proof(held, len(held) - 1, 1)
            return "challengeMismatch", (
                inference, evidence, entry, at, encode_range_proof(out, output_proof),
                encode_range_proof(len(held), contribution_proof),
            )  # fmt: skip
        case Boundaries(entry, start_proof, end_proof):
            return "challengeBoundaries", (
                inference, evidence, entry, encode_range_proof(out, start_proof),
                encode_range_proof(out, end_proof),
            )  # fmt: skip
        case Earlier(entry, earlier_id, earlier_start, output_proof, earlier_proof):
            return "challengeEarlier", (
                inference, evidence, entry, earlier_id, earlier_start,
                encode_range_proof(out, output_proof),
                encode_range_proof(len(contents[earlier_id]), earlier_proof),
            )  # fmt: skip
        case Omission(start, length, holder_id, holder_start, output_proof, holder_proof):
            return "challengeOmission", (
                inference, evidence, start, length, holder_id, holder_start,
                encode_range_proof(out, output_proof),
                encode_range_proof(len(contents[holder_id]), holder_proof),
            )  # fmt: skip
    raise TypeError(f"not a challenge: {challenge!r}")
