"""The security ids of a run's symbol partitions, or a step failure that says how to get them."""

from collections.abc import Sequence

import dagster as dg
from sqlalchemy import Engine

from ntx_assets.warehouse.companies import UnknownSymbols, symbol_security_ids


def partition_security_ids(engine: Engine, symbols: Sequence[str]) -> dict[str, int]:
    """Each symbol's security id among the included companies; a dg.Failure naming the unknown ones (and
    that company_universe must run first) before any NEPSE call."""
    with engine.connect() as conn:
        try:
            return symbol_security_ids(conn, symbols)
        except UnknownSymbols as error:
            raise dg.Failure(str(error)) from None
