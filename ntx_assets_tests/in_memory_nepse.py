"""An in-memory NEPSE for the fast tier: the stand-in's data answered without HTTP, auth or pacing.

As in Dagster's project_fully_featured example, the API client is a resource with interchangeable
implementations: `InMemoryNepseResource` is a `NepseResource` whose client reads the stand-in's
deterministic data (seed, end date) directly and parses it into the product's typed records. Assets,
checks and sensors run on it unchanged, with Dagster's test APIs, in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from pydantic import Field, PrivateAttr

from ntx_assets.nepse import (
    Company,
    Holiday,
    MarketStatus,
    Security,
    SecurityDetail,
    SecurityProfile,
    TodayPrice,
)
from ntx_assets.nepse.stats import CallStats
from ntx_assets.resources import NepseResource
from ntx_assets_tests.tools.standin import StandinConfig
from ntx_assets_tests.tools.standin.data import StandinData
from ntx_assets_tests.tools.standin.holidays import holiday_rows


@functools.cache
def standin_data(seed: int, end_date: dt.date, **classification: tuple[str, ...]) -> StandinData:
    return StandinData(StandinConfig(seed=seed, end_date=end_date, **classification))


class InMemoryNepseClient:
    """The NepseClient methods the assets, checks and sensors call, answered from `StandinData`."""

    def __init__(self, data: StandinData) -> None:
        self.data = data
        self.stats = CallStats()
        # None: closed as of 15:00 of the last session, as the stand-in answers by default.
        self.market: tuple[str, dt.datetime] | None = None

    def _answer(self, endpoint: str) -> None:
        self.stats.record_call(endpoint)

    def market_status(self) -> MarketStatus:
        self._answer("GET /api/nots/nepse-data/market-open")
        state, as_of = self.market or ("CLOSE", dt.datetime.combine(self.data.sessions[-1], dt.time(15)))
        return MarketStatus.model_validate({"id": self.data.market_id, "isOpen": state, "asOf": as_of})

    def holidays(self, year: int) -> list[Holiday]:
        self._answer("GET /api/nots/holiday/list")
        return [Holiday.model_validate(row) for row in holiday_rows(year)]

    def today_prices(self, business_date: dt.date) -> list[TodayPrice]:
        self._answer("POST /api/nots/nepse-data/today-price")
        return [TodayPrice.model_validate(row) for row in self.data.today_rows(business_date)]

    def company_list(self) -> list[Company]:
        self._answer("GET /api/nots/company/list")
        return [Company.model_validate(row) for row in self.data.companies]

    def security_list(self) -> list[Security]:
        self._answer("GET /api/nots/security")
        return [Security.model_validate(row) for row in self.data.securities]

    def promoters(self) -> list[SecurityDetail]:
        self._answer("GET /api/nots/security/promoters")
        return [SecurityDetail.model_validate(row) for row in self.data.promoters]

    def classification(self) -> list[SecurityDetail]:
        self._answer("GET /api/nots/security/classification")
        return [SecurityDetail.model_validate(row) for row in self.data.classification]

    def security_profile(self, security_id: int) -> SecurityProfile:
        self._answer("GET /api/nots/security/profile/{id}")
        return SecurityProfile.model_validate(self.data.profile(security_id))

    def close(self) -> None:
        pass


class InMemoryNepseResource(NepseResource):
    """A NepseResource answered from the stand-in's data for `seed` and `end_date` (YYYY-MM-DD)."""

    base_url: str = "memory://nepse"
    seed: int = 7
    end_date: str = "2026-11-20"
    # NEPSE's classification list told to differ, as the stand-in can be (StandinConfig).
    classification_missing: list[str] = Field(default_factory=list)
    classification_extra: list[str] = Field(default_factory=list)
    not_permitted_to_trade: list[str] = Field(default_factory=list)

    _memory: InMemoryNepseClient | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: Any) -> None:
        data = standin_data(
            self.seed,
            dt.date.fromisoformat(self.end_date),
            classification_missing=tuple(self.classification_missing),
            classification_extra=tuple(self.classification_extra),
            not_permitted_to_trade=tuple(self.not_permitted_to_trade),
        )
        self._memory = InMemoryNepseClient(data)

    def teardown_after_execution(self, context: Any) -> None:
        pass

    @property
    def client(self) -> Any:  # the NepseClient interface the product uses
        if self._memory is None:
            raise RuntimeError("InMemoryNepseResource used outside a run: call setup_for_execution first")
        return self._memory
