"""Hash functions of the audit chain: SM3 (GB/T 32905) where the installed cryptography offers it, else SHA-256."""

from __future__ import annotations

from functools import cache
from typing import Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

Algorithm = Literal["sm3", "sha256"]
ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {"sm3": hashes.SM3, "sha256": hashes.SHA256}


@cache
def is_available(algorithm: str) -> bool:
    """Whether this machine's cryptography/OpenSSL can compute `algorithm`."""
    factory = ALGORITHMS.get(algorithm)
    if factory is None:
        return False
    try:
        hashes.Hash(factory()).finalize()
    except UnsupportedAlgorithm:
        return False
    return True


def preferred(choice: str = "auto") -> Algorithm:
    """The algorithm new entries use: the configured one, or SM3 when available under `auto`."""
    if choice == "sha256" or (choice == "auto" and not is_available("sm3")):
        return "sha256"
    if not is_available("sm3"):
        raise RuntimeError("SM3 was configured but the installed cryptography does not provide it")
    return "sm3"


def hexdigest(algorithm: str, data: bytes) -> str:
    """Hex digest of `data`; raises KeyError for an algorithm the chain does not know."""
    digest = hashes.Hash(ALGORITHMS[algorithm]())
    digest.update(data)
    return digest.finalize().hex()
