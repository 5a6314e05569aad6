"""NEPSE's trading costs (ntx_assets/screener/costs.py): a worked example per commission slab, the slab
edges, the minimum, the SEBON fee, the DP charge on sales, capital gains tax by holding period, and a
round trip."""

from __future__ import annotations

import pytest

from ntx_assets.screener import costs


@pytest.mark.parametrize(
    ("amount", "rate", "commission"),
    [
        (40_000, 0.0036, 144.00),  # up to Rs 50,000: 0.36%
        (200_000, 0.0033, 660.00),  # above 50,000 up to 5 lakh: 0.33%
        (1_000_000, 0.00306, 3_060.00),  # above 5 lakh up to 20 lakh: 0.306%
        (5_000_000, 0.0027, 13_500.00),  # above 20 lakh up to 1 crore: 0.27%
        (20_000_000, 0.00243, 48_600.00),  # above 1 crore: 0.243%
    ],
)
def test_a_worked_example_per_slab(amount: float, rate: float, commission: float) -> None:
    assert costs.commission_rate(amount) == rate
    assert costs.commission(amount) == pytest.approx(commission)
    fee = amount * 0.00015
    assert costs.buy_cost(amount) == pytest.approx(commission + fee)
    assert costs.sell_cost(amount) == pytest.approx(commission + fee + 25.0)


def test_the_whole_amount_takes_its_slabs_rate_at_the_edges() -> None:
    assert costs.commission(50_000) == pytest.approx(180.0)  # "up to" 50,000 is in the first slab
    assert costs.commission(50_001) == pytest.approx(50_001 * 0.0033)
    assert costs.commission(500_000) == pytest.approx(1_650.0)
    assert costs.commission(2_000_000) == pytest.approx(6_120.0)
    assert costs.commission(10_000_000) == pytest.approx(27_000.0)
    assert costs.commission(10_000_001) == pytest.approx(10_000_001 * 0.00243)


def test_the_minimum_commission_and_nothing_for_no_trade() -> None:
    assert costs.commission(1_000) == costs.MIN_COMMISSION == 10.0  # 0.36% would be 3.60
    assert costs.buy_cost(0) == costs.sell_cost(0) == 0.0


def test_capital_gains_tax_by_holding_period() -> None:
    assert costs.capital_gains_tax(10_000, 30) == pytest.approx(750.0)  # 7.5% short-term
    assert costs.capital_gains_tax(10_000, 365) == pytest.approx(750.0)  # 365 days: still short-term
    assert costs.capital_gains_tax(10_000, 366) == pytest.approx(500.0)  # 5% long-term
    assert costs.capital_gains_tax(-5_000, 30) == 0.0  # a loss: no tax, no credit


def test_a_round_trip() -> None:
    """Rs 1 lakh bought, sold for 1.2 lakh 40 days later: 0.33% slab on both sides, Rs 25 DP charge on the
    sale, 7.5% on the gain net of the costs."""
    trip = costs.round_trip(100_000, 120_000, 40)
    assert trip.buy == pytest.approx(330 + 15)
    assert trip.sell == pytest.approx(396 + 18 + 25)
    gain = (120_000 - trip.sell) - (100_000 + trip.buy)
    assert gain == pytest.approx(19_216)
    assert trip.tax == pytest.approx(19_216 * 0.075)
    assert trip.total == pytest.approx(345 + 439 + 1_441.2)
