"""Sign-in throttling: which buckets an attempt counts in, and when an attempt is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthcare.domain.errors import TooManySignInAttempts
from healthcare.domain.sign_in import Allowance, SignInPolicy, Tally
from tests.conftest import NOW

MINUTE = timedelta(minutes=1)
POLICY = SignInPolicy(
    per_account_and_address=(Allowance(5, MINUTE), Allowance(50, timedelta(hours=1))),
    per_address=(Allowance(20, MINUTE),),
)


def keys(account: str, address: str) -> list[str]:
    return [bucket.key for bucket in POLICY.buckets(account, address)]


def test_an_attempt_counts_for_its_account_from_its_address_and_for_its_address() -> None:
    here = keys("pat@example.test", "203.0.113.7")
    assert len(here) == 3 and len(set(here)) == 3
    assert [b.allowance for b in POLICY.buckets("pat@example.test", "203.0.113.7")] == [
        Allowance(5, MINUTE),
        Allowance(50, timedelta(hours=1)),
        Allowance(20, MINUTE),
    ]


def test_the_owner_at_another_address_shares_no_bucket_with_a_guesser() -> None:
    assert not set(keys("pat@example.test", "203.0.113.7")) & set(
        keys("pat@example.test", "198.51.100.1")
    )


def test_one_address_trying_many_accounts_fills_one_address_bucket() -> None:
    first, other = keys("pat@example.test", "203.0.113.7"), keys("olive@example.test", "203.0.113.7")
    assert set(first) & set(other) == {first[-1]} == {other[-1]}


def test_buckets_keep_no_email_or_address_in_clear() -> None:
    for key in keys("pat@example.test", "203.0.113.7"):
        assert "pat" not in key and "203.0" not in key and len(key) <= 128


def test_an_attempt_within_every_allowance_is_admitted() -> None:
    buckets = POLICY.buckets("pat@example.test", "203.0.113.7")
    POLICY.admit([(b, Tally(b.allowance.attempts, NOW + MINUTE)) for b in buckets], NOW)


def test_an_attempt_over_any_allowance_is_refused_until_that_window_ends() -> None:
    pair, hourly, address = POLICY.buckets("pat@example.test", "203.0.113.7")
    tallies = [
        (pair, Tally(6, NOW + timedelta(seconds=42.5))),
        (hourly, Tally(6, NOW + timedelta(minutes=59))),
        (address, Tally(6, NOW + timedelta(seconds=10))),
    ]
    with pytest.raises(TooManySignInAttempts) as refused:
        POLICY.admit(tallies, NOW)
    assert refused.value.retry_after_seconds == 43


def test_a_refusal_never_asks_to_wait_less_than_a_second() -> None:
    (pair, *_) = POLICY.buckets("pat@example.test", "203.0.113.7")
    with pytest.raises(TooManySignInAttempts) as refused:
        POLICY.admit([(pair, Tally(6, NOW))], NOW)
    assert refused.value.retry_after_seconds == 1


def test_a_refusal_never_asks_to_wait_more_than_the_window() -> None:
    """A concurrent attempt that read the clock later may have opened the window."""
    (pair, *_) = POLICY.buckets("pat@example.test", "203.0.113.7")
    with pytest.raises(TooManySignInAttempts) as refused:
        POLICY.admit([(pair, Tally(6, NOW + MINUTE + timedelta(seconds=0.3)))], NOW)
    assert refused.value.retry_after_seconds == 60
