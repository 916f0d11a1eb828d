"""Keyed pseudonyms: stable per consumer, different between consumers, blind to spelling, not reversible by guessing
without the key."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.masking import PersonalKind
from yiwang.core.pseudonyms import TOKEN_PREFIX, Pseudonymiser, normalise

SECRET = "platform-secret-" + "s" * 32
HEALTH = Pseudonymiser(SECRET, "海南省卫生健康委员会")
CIVIL = Pseudonymiser(SECRET, "海南省民政厅")
values = st.text(min_size=1, max_size=40)


@given(values)
def test_the_same_value_gets_the_same_token_for_one_consumer(value: str) -> None:
    token = HEALTH.token(PersonalKind.NAME, value)
    assert token == Pseudonymiser(SECRET, "海南省卫生健康委员会").token(PersonalKind.NAME, value)
    assert token.startswith(TOKEN_PREFIX) and len(token) == len(TOKEN_PREFIX) + 32


@given(values)
def test_two_consumers_cannot_join_on_tokens(value: str) -> None:
    assert HEALTH.token(PersonalKind.NAME, value) != CIVIL.token(PersonalKind.NAME, value)


@given(values, values)
def test_different_values_get_different_tokens(first: str, second: str) -> None:
    if normalise(PersonalKind.NAME, first) != normalise(PersonalKind.NAME, second):
        assert HEALTH.token(PersonalKind.NAME, first) != HEALTH.token(PersonalKind.NAME, second)


def test_spellings_of_one_id_number_or_phone_share_a_token() -> None:
    assert HEALTH.token("id_number", "11010519491231002x") == HEALTH.token("id_number", " 11010519491231002X ")
    assert HEALTH.token("phone", "+86 138-1234-5678") == HEALTH.token("phone", "13812345678")
    assert HEALTH.token("phone", "13812345678") != HEALTH.token("id_number", "13812345678")


def test_another_platform_key_gives_other_tokens() -> None:
    other = Pseudonymiser("another-secret-" + "t" * 32, "海南省卫生健康委员会")
    assert other.token("name", "张三") != HEALTH.token("name", "张三")
    assert "张三" not in HEALTH.token("name", "张三")
