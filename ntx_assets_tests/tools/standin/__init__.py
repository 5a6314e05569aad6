"""A local stand-in for the NEPSE web API, speaking the real API's shapes over loopback.

Used to run the product offline, in CI, in demos, under injected faults and in benchmarks. Data is
seeded: the same StandinConfig gives byte-identical answers.
"""

from ntx_assets_tests.tools.standin.config import FaultConfig, StandinConfig
from ntx_assets_tests.tools.standin.data import REMOVE, StandinData
from ntx_assets_tests.tools.standin.server import StandinServer, running_standin

__all__ = ["REMOVE", "FaultConfig", "StandinConfig", "StandinData", "StandinServer", "running_standin"]
