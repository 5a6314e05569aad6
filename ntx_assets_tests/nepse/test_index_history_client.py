"""NepseClient.index_history against the stand-in over real loopback HTTP: every row of the NEPSE index
as served, newest first, and `since` ending the paging at the first page that reaches a stored date."""

from __future__ import annotations

import datetime as dt

from ntx_assets.nepse import NepseClient
from ntx_assets_tests.tools.standin import StandinServer

INDEX_HISTORY = "GET /api/nots/index/history/{indexId}"


def _client(standin: StandinServer, page_size: int = 500) -> NepseClient:
    return NepseClient(standin.base_url, requests_per_second=1000.0, page_size=page_size)


def _calls(standin: StandinServer) -> int:
    return int(standin.request_counts().get(INDEX_HISTORY, 0))


def test_the_whole_history_parses_and_round_trips(standin: StandinServer) -> None:
    truth = standin.data.index_history(58)
    assert 200 <= len(truth) <= 260  # about a year of sessions, like the real endpoint's 227
    before = _calls(standin)
    with _client(standin) as client:
        rows = client.index_history()
    assert _calls(standin) - before == 1  # one page of 500
    assert [row.model_dump(by_alias=True) for row in rows] == truth
    assert rows[0].business_date == standin.data.sessions[-1]
    assert all(row.exchange_index_id == 58 for row in rows)


def test_since_stops_at_the_first_page_reaching_the_stored_date(standin: StandinServer) -> None:
    truth = standin.data.index_history(58)
    with _client(standin, page_size=20) as client:
        before = _calls(standin)
        everything = client.index_history(58)
        assert _calls(standin) - before == -(-len(truth) // 20)
        assert [row.business_date.isoformat() for row in everything] == [r["businessDate"] for r in truth]

        # The 3rd newest date is on page 0: a daily refresh is one call, and page 0 comes back whole.
        stored = dt.date.fromisoformat(truth[2]["businessDate"])
        before = _calls(standin)
        recent = client.index_history(58, since=stored)
        assert _calls(standin) - before == 1
        assert [row.model_dump(by_alias=True) for row in recent] == truth[:20]

        # A date on page 2 (rows 40..59) costs three calls; one older than the whole history, all pages.
        before = _calls(standin)
        assert len(client.index_history(58, since=dt.date.fromisoformat(truth[45]["businessDate"]))) == 60
        assert _calls(standin) - before == 3
        older = client.index_history(
            58, since=dt.date.fromisoformat(truth[-1]["businessDate"]) - dt.timedelta(1)
        )
        assert len(older) == len(truth)


def test_an_index_the_standin_does_not_model_is_an_empty_history(standin: StandinServer) -> None:
    with _client(standin) as client:
        assert client.index_history(51) == []
