"""Validator keystores: private keys encrypted at rest, in the standard Ethereum keystore format.

The files are version-3 keystores (scrypt key derivation, AES-128-CTR), the format geth writes and
MetaMask imports ("Import account > JSON file"), produced and read with eth-keyfile. A key is never
written to disk in clear; the password comes from a file (for services) or a prompt.
"""

import json
import os
from pathlib import Path

from eth_keyfile import create_keyfile_json, decode_keyfile_json
from eth_keys import keys

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.types import Address

STANDARD_SCRYPT_N = 262_144
"""geth's standard scrypt work factor (about a second to unlock)."""
LIGHT_SCRYPT_N = 4_096
"""geth's --lightkdf work factor: for throwaway devnets and tests only."""


class KeystoreError(OpenLedgerError):
    """A keystore or its password file cannot be used."""


def write_keystore(
    path: Path, private_key: bytes, password: str, *, scrypt_n: int = STANDARD_SCRYPT_N
) -> Address:
    """Encrypt `private_key` into a new keystore file at `path` (mode 0600); return its address."""
    if path.exists():
        raise KeystoreError(f"{path} already exists; refusing to overwrite a keystore")
    if not password:
        raise KeystoreError("the keystore password must not be empty")
    document = create_keyfile_json(
        private_key, password.encode(), kdf="scrypt", iterations=scrypt_n
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(document, handle)
        handle.flush()
        os.fsync(handle.fileno())
    return compute_address(private_key)


def read_keystore(path: Path, password: str) -> bytes:
    """Decrypt the keystore at `path`; return the 32-byte private key."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise KeystoreError(f"cannot read the keystore {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise KeystoreError(f"{path} is not a keystore (not JSON: {error})") from error
    if not isinstance(document, dict) or ("crypto" not in document and "Crypto" not in document):
        raise KeystoreError(f"{path} is not a version-3 keystore (no crypto section)")
    try:
        return bytes(decode_keyfile_json(document, password.encode()))
    except ValueError as error:
        raise KeystoreError(
            f"cannot decrypt {path}: wrong password or damaged file ({error})"
        ) from error
    except (KeyError, TypeError) as error:
        raise KeystoreError(f"{path} is not a valid keystore: missing {error}") from error


def read_password_file(path: Path) -> str:
    """The password in `path`: its first line, without the line ending."""
    try:
        text = path.read_text()
    except OSError as error:
        raise KeystoreError(f"cannot read the password file {path}: {error.strerror}") from error
    password = text.splitlines()[0] if text else ""
    if not password:
        raise KeystoreError(f"the password file {path} is empty")
    return password


def compute_address(private_key: bytes) -> Address:
    """The account address of a private key."""
    try:
        return Address(keys.PrivateKey(private_key).public_key.to_canonical_address())
    except Exception as error:  # eth-keys raises several types for bad keys
        raise KeystoreError(f"invalid private key: {error}") from error
