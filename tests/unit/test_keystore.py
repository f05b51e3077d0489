"""Validator keystores are standard Ethereum v3 keystores: what `openledger keys new` writes,
eth-account (the library MetaMask's import format follows) decrypts, and nothing is in clear."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from openledger.genesis.keystore import (
    LIGHT_SCRYPT_N,
    KeystoreError,
    read_keystore,
    read_password_file,
    write_keystore,
)


def test_written_keystore_is_a_standard_v3_keystore(tmp_path: Path) -> None:
    key = bytes(range(1, 33))
    path = tmp_path / "validator.json"
    address = write_keystore(path, key, "correct horse", scrypt_n=LIGHT_SCRYPT_N)
    document = json.loads(path.read_text())
    assert document["version"] == 3 and document["crypto"]["kdf"] == "scrypt"
    assert key.hex() not in path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert bytes(Account.decrypt(document, "correct horse")) == key
    assert Account.from_key(key).address.lower() == "0x" + address.hex()
    assert read_keystore(path, "correct horse") == key


def test_wrong_password_and_damaged_files_give_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "validator.json"
    write_keystore(path, bytes(range(1, 33)), "right", scrypt_n=LIGHT_SCRYPT_N)
    with pytest.raises(KeystoreError, match="wrong password"):
        read_keystore(path, "wrong")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(KeystoreError, match="not a keystore"):
        read_keystore(tmp_path / "junk.json", "x")
    with pytest.raises(KeystoreError, match="already exists"):
        write_keystore(path, bytes(range(1, 33)), "right", scrypt_n=LIGHT_SCRYPT_N)
    (tmp_path / "empty").write_text("")
    with pytest.raises(KeystoreError, match="is empty"):
        read_password_file(tmp_path / "empty")


def test_keys_new_then_inspect_from_the_command_line(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret\n")
    keystore = tmp_path / "key.json"

    def cli(*args: str) -> str:
        completed = subprocess.run(
            [sys.executable, "-m", "openledger.node.cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    created = cli(
        "keys", "new", "--keystore", str(keystore), "--password-file", str(password), "--lightkdf"
    )
    address = created.split()[1]
    assert (
        cli(
            "keys", "inspect", "--keystore", str(keystore), "--password-file", str(password)
        ).strip()
        == address
    )
    assert Account.decrypt(json.loads(keystore.read_text()), "s3cret")
