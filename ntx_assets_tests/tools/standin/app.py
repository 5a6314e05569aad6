"""Assembles the Starlette application around a StandinState."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp

from ntx_assets_tests.tools.standin.archive import ArchiveFiles
from ntx_assets_tests.tools.standin.middleware import StandinMiddleware
from ntx_assets_tests.tools.standin.routes import ROUTES
from ntx_assets_tests.tools.standin.state import StandinState


def create_app(state: StandinState, archive: ArchiveFiles | None = None) -> ASGIApp:
    app = Starlette(routes=ROUTES)
    app.state.standin = state
    config = state.config
    app.state.archive = archive or ArchiveFiles(
        config.archive_dir, config.archive_failing_symbols, config.archive_disagreements
    )
    app.state.cache = {}
    return StandinMiddleware(app, state, ROUTES)
