"""Exact money: a non-negative integer number of minor units and a supported currency.

Floats are refused, negative amounts are refused, and amounts in different
currencies never mix. Minor units follow ISO 4217: a US dollar has 100 cents, a
Japanese yen has no minor unit, a Kuwaiti dinar has 1,000 fils. A currency not in
:data:`MINOR_UNITS` is refused, and so is an amount above :data:`MAX_MINOR_UNITS`.

>>> Money.usd("12.50")
Money(1250, 'USD')
>>> str(Money.usd("12.50") + Money(75))
'US$13.25'
>>> str(Money.of("1250", "JPY")), str(Money.of("1.234", "KWD"))
('JPY 1,250', 'KWD 1.234')
>>> Money(500) - Money(700)
Traceback (most recent call last):
...
statemachines.errors.InvalidAmount: US$5.00 minus US$7.00 would be negative
>>> Money(5, "EUR") + Money(5)
Traceback (most recent call last):
...
statemachines.errors.CurrencyMismatch: cannot combine EUR 0.05 with US$0.05: the currencies differ
>>> Money.usd("NaN")
Traceback (most recent call last):
...
statemachines.errors.InvalidAmount: 'NaN' is not a finite amount
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, cast

from statemachines.errors import CurrencyMismatch, InvalidAmount

__all__ = ["MAX_MINOR_UNITS", "MINOR_UNITS", "Money"]


def _each(codes: str, digits: int) -> dict[str, int]:
    return dict.fromkeys(codes.split(), digits)


MINOR_UNITS: dict[str, int] = {
    **_each(
        "USD EUR GBP CAD AUD NZD CHF SEK NOK DKK PLN CZK HUF RON BGN INR CNY HKD SGD TWD MXN "
        "BRL ARS COP PEN ZAR TRY ILS AED SAR QAR EGP NGN KES PHP THB MYR IDR PKR BDT UAH",
        2,
    ),
    **_each("JPY KRW VND CLP ISK PYG UGX XAF XOF", 0),
    **_each("KWD BHD OMR JOD TND IQD LYD", 3),
}
"""The currencies money may be kept in, with their number of decimals (ISO 4217)."""

MAX_MINOR_UNITS = 10**15
"""The largest amount, in minor units (US$10 trillion): anything larger is a mistake, and
refusing it keeps every sum far from where integers would grow without bound."""

_SYMBOL = {"USD": "US$"}


def _currency(currency: object) -> int:
    """The decimals of *currency*, or :class:`InvalidAmount` for one money is not kept in."""
    digits = MINOR_UNITS.get(currency) if isinstance(currency, str) else None
    if digits is None:
        if isinstance(currency, str) and len(currency) == 3 and currency.isupper():
            msg = (
                f"money is not kept in {currency}; the currencies supported are "
                f"{', '.join(sorted(MINOR_UNITS))}"
            )
        else:
            msg = f"a currency is a three-letter ISO code such as 'USD', got {currency!r}"
        raise InvalidAmount(msg)
    return digits


class Money:
    """An exact amount: ``cents`` minor units of ``currency`` (ISO 4217, default USD)."""

    __slots__ = ("cents", "currency")
    __match_args__ = ("cents", "currency")

    cents: int
    currency: str

    def __init__(self, cents: int, currency: str = "USD") -> None:
        raw = cast("object", cents)  # callers without type checking can pass anything
        if isinstance(raw, bool) or not isinstance(raw, int):
            msg = (
                f"an amount is a whole number of minor units (cents), got "
                f"{type(cents).__name__} {cents!r}; use Money.usd('12.50') for decimal text"
            )
            raise InvalidAmount(msg)
        if type(currency) is not str or currency not in MINOR_UNITS:
            _currency(currency)
        if cents < 0:
            msg = f"an amount cannot be negative, got {cents} minor units of {currency}"
            raise InvalidAmount(msg)
        if cents > MAX_MINOR_UNITS:
            msg = (
                f"an amount cannot be above {MAX_MINOR_UNITS:,} minor units, got {cents:,} of "
                f"{currency}"
            )
            raise InvalidAmount(msg)
        object.__setattr__(self, "cents", cents)
        object.__setattr__(self, "currency", currency)

    @classmethod
    def usd(cls, amount: str | Decimal | int) -> Money:
        """Build US dollars from decimal text or a Decimal (``"12.50"``), never a float."""
        return cls.of(amount, "USD")

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> Money:
        """Build an amount from major units given as decimal text, a Decimal or an int."""
        raw = cast("object", amount)
        if isinstance(raw, float | bool):
            msg = f"floats are never money: pass {str(amount)!r} as text or a Decimal"
            raise InvalidAmount(msg)
        digits = _currency(currency)
        try:
            major = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            msg = f"{amount!r} is not a decimal amount"
            raise InvalidAmount(msg) from None
        if not major.is_finite():
            msg = f"{amount!r} is not a finite amount"
            raise InvalidAmount(msg)
        if major.adjusted() > 16:  # far above the bound: refused before it is multiplied out
            msg = f"{amount!r} is above the largest amount, {MAX_MINOR_UNITS:,} minor units"
            raise InvalidAmount(msg)
        minor = major.scaleb(digits)
        if minor != minor.to_integral_value():
            places = {0: "no decimal places", 2: "two decimal places"}.get(
                digits, f"{digits} decimal places"
            )
            msg = (
                f"{amount!r} has more than two decimal places"
                if digits == 2
                else f"{amount!r} is not a whole number of minor units: {currency} has {places}"
            )
            raise InvalidAmount(msg)
        return cls(int(minor), currency)

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        """No money in *currency*."""
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if not isinstance(cast("object", other), Money):
            msg = f"cannot combine {self} with {type(other).__name__} {other!r}"
            raise InvalidAmount(msg)
        if other.currency != self.currency:
            msg = f"cannot combine {self} with {other}: the currencies differ"
            raise CurrencyMismatch(msg)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        if other.cents > self.cents:
            msg = f"{self} minus {other} would be negative"
            raise InvalidAmount(msg)
        return Money(self.cents - other.cents, self.currency)

    def minus_capped(self, other: Money) -> Money:
        """``self - other``, or zero when *other* is larger."""
        self._same(other)
        return Money(max(self.cents - other.cents, 0), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.cents < other.cents

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.cents <= other.cents

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.cents > other.cents

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.cents >= other.cents

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.cents == other.cents and self.currency == other.currency

    def __hash__(self) -> int:
        return hash((self.cents, self.currency))

    def __bool__(self) -> bool:
        return self.cents != 0

    def __setattr__(self, name: str, value: Any) -> None:
        msg = "Money is immutable"
        raise AttributeError(msg)

    # Immutable: a copy is the amount itself, and pickling rebuilds it through __init__.
    def __copy__(self) -> Money:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Money:
        return self

    def __reduce__(self) -> tuple[type[Money], tuple[int, str]]:
        return (Money, (self.cents, self.currency))

    def __repr__(self) -> str:
        if self.currency == "USD":
            return f"Money({self.cents}, 'USD')"
        return f"Money({self.cents}, {self.currency!r})"

    def __str__(self) -> str:
        cents = self.cents
        digits = MINOR_UNITS[self.currency]
        if digits == 2 and cents < 100_000:  # below 1,000.00: the common case, kept cheap
            text = f"{cents // 100}.{cents % 100:02d}"
        elif digits == 0:
            text = f"{cents:,}"
        else:
            units, minor = divmod(cents, 10**digits)
            text = f"{units:,}.{minor:0{digits}d}"
        if self.currency == "USD":
            return "US$" + text
        symbol = _SYMBOL.get(self.currency)
        return f"{symbol}{text}" if symbol else f"{self.currency} {text}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"cents": 1250, "currency": "USD"}``."""
        return {"cents": self.cents, "currency": self.currency}
