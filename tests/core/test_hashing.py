"""The audit chain's canonical encoding and hash functions agree with their reference definitions."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core import audit, hashing

texts = st.text()
integers = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))


def reference_canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(
        {name: entry[name] for name in audit._FIELDS}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


@given(st.fixed_dictionaries({name: integers if name in ("seq", "actor_id") else texts for name in audit._FIELDS}))
def test_canonical_is_exactly_sorted_compact_json(entry: dict[str, Any]) -> None:
    assert audit.canonical(entry) == reference_canonical(entry)


@given(
    st.fixed_dictionaries({name: st.one_of(st.booleans(), st.floats(allow_nan=False), texts) for name in audit._FIELDS})
)
def test_unusual_values_fall_back_to_json(entry: dict[str, Any]) -> None:
    assert audit.canonical(entry) == reference_canonical(entry)


@given(st.binary())
def test_every_hash_path_matches_cryptography(data: bytes) -> None:
    for name, factory in hashing.ALGORITHMS.items():
        reference = hashes.Hash(factory())
        reference.update(data)
        assert hashing.hexdigest(name, data) == reference.finalize().hex()


def test_sm3_known_answer() -> None:
    # GB/T 32905-2016, example 1: SM3("abc")
    assert hashing.hexdigest("sm3", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
