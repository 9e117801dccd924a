"""The clock and money: aware UTC time only, never backwards; exact amounts only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from statemachines import (
    UTC,
    ClockError,
    CurrencyMismatch,
    InvalidAmount,
    InvalidInput,
    ManualClock,
    Money,
    NaiveDatetime,
    SystemClock,
)
from statemachines.core.clock import Clock, ensure_utc
from statemachines.core.money import MAX_MINOR_UNITS, MINOR_UNITS
from tests.conftest import START


def test_a_manual_clock_moves_only_forward(clock: ManualClock) -> None:
    clock.advance(days=1, hours=2)

    assert clock.now() == START + timedelta(days=1, hours=2)
    with pytest.raises(ClockError, match="never goes backwards"):
        clock.set(START)
    assert clock.now() == START + timedelta(days=1, hours=2)


def test_a_manual_clock_refuses_a_naive_start() -> None:
    with pytest.raises(NaiveDatetime, match="has no timezone"):
        ManualClock(datetime(2026, 1, 1))  # noqa: DTZ001


def test_an_aware_time_in_another_zone_is_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))

    value = ensure_utc(datetime(2026, 1, 1, 10, 0, tzinfo=paris))

    assert value == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert value.tzinfo is UTC


def test_the_system_clock_reads_aware_utc() -> None:
    clock: Clock = SystemClock()

    assert clock.now().tzinfo is UTC
    assert isinstance(clock, Clock)


def test_money_parses_decimal_text_exactly() -> None:
    assert Money.usd("0.10") + Money.usd("0.20") == Money.usd("0.30")
    assert Money.usd(Decimal("1234.5")) == Money(123_450)
    assert str(Money(123_456_789)) == "US$1,234,567.89"
    assert str(Money(5, "EUR")) == "EUR 0.05"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Money(-1), "cannot be negative"),
        (lambda: Money(1.5), "whole number of minor units"),  # type: ignore[arg-type]
        (lambda: Money(True), "whole number of minor units"),
        (lambda: Money(5, "usd"), "three-letter ISO code"),
        (lambda: Money.usd(0.1), "floats are never money"),  # type: ignore[arg-type]
        (lambda: Money.usd("1.005"), "more than two decimal places"),
        (lambda: Money.usd("ten"), "is not a decimal amount"),
        (lambda: Money(1) - Money(2), "would be negative"),
    ],
)
def test_inexact_or_negative_money_is_refused(make: object, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        make()  # type: ignore[operator]


def test_currencies_never_mix() -> None:
    with pytest.raises(CurrencyMismatch, match="the currencies differ"):
        Money(5, "EUR") + Money(5)
    with pytest.raises(CurrencyMismatch):
        _ = Money(5, "EUR") < Money(5)
    assert Money(5, "EUR") != Money(5)


def test_money_is_immutable_and_hashable() -> None:
    amount = Money(500)

    with pytest.raises(AttributeError, match="immutable"):
        amount.cents = 1
    assert {amount, Money(500)} == {Money(500)}
    assert amount.minus_capped(Money(900)) == Money(0)


# --------------------------------------------------------------------------- bad amounts


@pytest.mark.parametrize(
    "text", ["NaN", "nan", "sNaN", "-sNaN", "Infinity", "-Infinity", "inf", "1e999999999"]
)
def test_amounts_that_are_not_finite_numbers_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Money.usd(text)

    assert isinstance(refused.value, InvalidAmount)  # not OverflowError or InvalidOperation


@pytest.mark.parametrize("decimal", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")])
def test_decimals_that_are_not_finite_are_refused(decimal: Decimal) -> None:
    with pytest.raises(InvalidAmount, match="is not a finite amount"):
        Money.of(decimal, "EUR")


def test_amounts_above_the_documented_bound_are_refused() -> None:
    largest = Money(MAX_MINOR_UNITS)

    with pytest.raises(InvalidAmount, match="cannot be above 1,000,000,000,000,000 minor units"):
        Money(MAX_MINOR_UNITS + 1)
    with pytest.raises(InvalidAmount, match="cannot be above"):
        _ = largest + Money(1)
    with pytest.raises(InvalidAmount, match="is above the largest amount"):
        Money.usd("1e20")
    assert str(largest) == "US$10,000,000,000,000.00"


@pytest.mark.parametrize(
    ("text", "currency", "minor", "shown"),
    [
        ("1250", "JPY", 1_250, "JPY 1,250"),
        ("1.234", "KWD", 1_234, "KWD 1.234"),
        ("12.50", "EUR", 1_250, "EUR 12.50"),
        ("1234.5", "BHD", 1_234_500, "BHD 1,234.500"),
    ],
)
def test_minor_units_follow_iso_4217(text: str, currency: str, minor: int, shown: str) -> None:
    amount = Money.of(text, currency)

    assert (amount.cents, str(amount)) == (minor, shown)
    assert MINOR_UNITS[currency] == (len(shown.rpartition(".")[2]) if "." in shown else 0)


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.5", "JPY", "JPY has no decimal places"),
        ("1.2345", "KWD", "KWD has 3 decimal places"),
    ],
)
def test_more_decimals_than_the_currency_has_are_refused(
    text: str, currency: str, message: str
) -> None:
    with pytest.raises(InvalidAmount, match=message):
        Money.of(text, currency)


@pytest.mark.parametrize("currency", ["XYZ", "BTC", "ZWL"])
def test_a_currency_money_is_not_kept_in_is_refused_clearly(currency: str) -> None:
    with pytest.raises(InvalidAmount, match=f"money is not kept in {currency}; the currencies"):
        Money(100, currency)


@pytest.mark.parametrize("currency", [None, 3, ["USD"], "usd", "US"])
def test_a_currency_that_is_no_code_is_refused(currency: object) -> None:
    with pytest.raises(InvalidAmount, match="three-letter ISO code"):
        Money(100, currency)  # type: ignore[arg-type]
