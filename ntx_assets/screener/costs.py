"""NEPSE's trading costs for an individual investor, with their sources and dates (pure).

What a trade of `amount` NPR of one scrip costs, as the backtest's `--costs nepse` charges it:

- **Broker commission**, by the trade's size, the rate of the slab the whole amount falls in (not marginal):
  up to Rs 50,000: 0.36%; above 50,000 up to 5 lakh: 0.33%; above 5 lakh up to 20 lakh: 0.306%; above 20
  lakh up to 1 crore: 0.27%; above 1 crore: 0.243%. In force since 2024-05-14: myrepublica.nagariknetwork.com,
  "SEBON reducing stockbrokers' commission from May 14" (2024-05-07: the SEBON board's decision after the
  Ministry of Finance's approval; "0.36 ... 0.33 ... 0.306 ... 0.27 ... 0.243 percent"); ceotab.com, "Finance
  ministry approves SEBON's proposal to reduce stockbrokers' commissions" (2024, the same five rates; the
  SEBON board decided them on 2023-10-18). The schedule before it (2020-12-27 to 2024-05-13) was 0.40 / 0.37
  / 0.34 / 0.30 / 0.27 (thehimalayantimes.com, "Brokers' commission slashed by 33 per cent from today";
  myrepublica, 2020-12-26). SEBON's draft amendment (sharesansar.com, 2023-10-19) wrote 0.31 and 0.24 for the
  third and fifth slabs; the rates announced as applied are 0.306 and 0.243, used here.
- **Minimum commission** Rs 10 per trade: the bond and fund schedules print "Flat Rs 10 or ... whichever is
  higher" (nepsebajar.com share calculator); for shares it is UNVERIFIED (no source found that states it for
  the current share schedule). It only matters below about Rs 2,800 a trade.
- **SEBON fee** 0.015% of every purchase and sale (aajakorasifal.com, "Capital gain tax on sale of shares in
  Nepal", 2023-04, worked example; bipinshilpakar.com.np, "fixed 0.015% of transaction amount"). SEBON's
  2023-10-19 draft (sharesansar.com) proposed 0.014%; whether that was applied with the 2024 commission
  schedule is UNVERIFIED, so 0.015% (the higher) is kept.
- **DP charge** Rs 25 per scrip per sale (the depository participant's debit of the seller's demat account):
  aajakorasifal.com 2023 and bipinshilpakar.com.np ("DP charges Rs 25 per company"). Those examples also
  charge Rs 25 on a purchase; the backtest charges it on sales only (CDSC's transfer is a debit on the
  seller's account), which is UNVERIFIED against a CDSC tariff.
- **Capital gains tax** for individuals on listed shares, withheld by the broker on each sale, on the gain
  net of the trade's costs: 7.5% when the shares were held 365 days or less, 5% when held more than 365
  days; in force since Shrawan 1, 2078 (2021-07-16), the first time the rate depended on the holding period
  (aajakorasifal.com 2023-04; earnsharenepal.blogspot.com 2021-07 on CDSC's MeroShare holding-period feature
  from Shrawan 3, 2078; nepalytix.com, "Capital Gains Tax on Shares in Nepal (2025 Update)": individual < 365
  days 7.5%, > 365 days 5%, institutions 10%). Exactly 365 days is read as short-term (the sources say "less
  than" and "more than"; the conservative reading). A loss earns no credit here.
- **Tax on cash dividends** 5%, withheld at source (nepsetrading.com, "What is Capital Gain?": "When you
  receive cash dividends or bonus shares from a company, you must pay a 5% tax"); charged on cash dividends
  only (the tax on bonus shares is not modelled).

Not modelled: NEPSE's own share of the commission (it is inside the broker's rate), the name-transfer fee,
the institutional rate of CGT (10%), and any change of these rates before 2024-05-14 (a backtest of older
years is charged today's schedule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULE_DATE = "2024-05-14"  # the commission schedule below is in force from this date

# (upper bound of the slab in NPR, inclusive; rate) - the last slab has no upper bound.
COMMISSION_SLABS: tuple[tuple[float, float], ...] = (
    (50_000.0, 0.0036),
    (500_000.0, 0.0033),
    (2_000_000.0, 0.00306),
    (10_000_000.0, 0.0027),
    (math.inf, 0.00243),
)
MIN_COMMISSION = 10.0  # NPR per trade (unverified for shares)
SEBON_FEE = 0.00015  # of every purchase and sale
DP_CHARGE = 25.0  # NPR per scrip per sale
CGT_SHORT_TERM = 0.075  # individuals, held 365 days or less
CGT_LONG_TERM = 0.05  # individuals, held more than 365 days
LONG_TERM_DAYS = 365
DIVIDEND_TAX = 0.05  # withheld from cash dividends


def commission_rate(amount: float) -> float:
    """The broker's rate for a trade of `amount` NPR: the rate of the slab the whole amount falls in."""
    for upper, rate in COMMISSION_SLABS:
        if amount <= upper:
            return rate
    raise AssertionError("the last slab is unbounded")


def commission(amount: float) -> float:
    """The broker's commission on a trade of `amount` NPR (never below MIN_COMMISSION for a trade)."""
    if amount <= 0:
        return 0.0
    return max(amount * commission_rate(amount), MIN_COMMISSION)


def sebon_fee(amount: float) -> float:
    return max(amount, 0.0) * SEBON_FEE


def buy_cost(amount: float) -> float:
    """What buying `amount` NPR of one scrip costs on top of the amount: commission and SEBON fee."""
    return commission(amount) + sebon_fee(amount) if amount > 0 else 0.0


def sell_cost(amount: float) -> float:
    """What selling `amount` NPR of one scrip costs out of the proceeds: commission, SEBON fee, DP charge."""
    return commission(amount) + sebon_fee(amount) + DP_CHARGE if amount > 0 else 0.0


def capital_gains_tax_rate(held_days: int) -> float:
    """An individual's rate on listed shares held `held_days` calendar days."""
    return CGT_LONG_TERM if held_days > LONG_TERM_DAYS else CGT_SHORT_TERM


def capital_gains_tax(gain: float, held_days: int) -> float:
    """The tax on a sale's gain (net of the trade's costs); no tax, and no credit, on a loss."""
    return max(gain, 0.0) * capital_gains_tax_rate(held_days)


@dataclass(frozen=True)
class RoundTrip:
    """One scrip bought for `bought` NPR and sold for `sold` NPR after `held_days`: what each part costs."""

    buy: float
    sell: float
    tax: float

    @property
    def total(self) -> float:
        return self.buy + self.sell + self.tax


def round_trip(bought: float, sold: float, held_days: int) -> RoundTrip:
    """The costs of buying `bought` NPR and selling the holding for `sold` NPR `held_days` later: the tax
    is on the gain net of both trades' costs (sold - sell costs - (bought + buy costs))."""
    buy, sell = buy_cost(bought), sell_cost(sold)
    gain = (sold - sell) - (bought + buy)
    return RoundTrip(buy, sell, capital_gains_tax(gain, held_days))
