"""The chain's definition: the genesis file format, its loading and validation, generators for dev
and devnet genesis files, and validator keystores.

This folder sits at the bottom of the import graph and imports nothing of ours, so it also holds
the root error class and the value types every other folder shares.
"""

from openledger.genesis.keccak import use_fastest_backend

use_fastest_backend()
