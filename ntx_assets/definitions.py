"""The code location: every Dagster object under ntx_assets/defs/, loaded by convention.

Runs execute their steps in the run's own process (`in_process_executor`): the multiprocess default
starts a second Python interpreter per step, which re-imports Dagster and the code location (about 3-4 s
a step on 2 cores) before a price run makes its first call, and buys no parallelism here: the
NEPSE-calling steps share the `nepse_api` pool (limit 1) and the derived steps need their inputs first.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(executor=dg.in_process_executor),
    )
