"""Binds the resources every asset uses, from the NTX_* settings (a bad value fails here, at load)."""

import dagster as dg

from ntx_assets.resources import ArtifactStoreResource, NepseResource, WarehouseResource
from ntx_assets.settings import load_settings


@dg.definitions
def resources() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        resources={
            "nepse": NepseResource.from_settings(settings),
            "warehouse": WarehouseResource(database_url=settings.warehouse_url),
            "artifact_store": ArtifactStoreResource.from_settings(settings),
        }
    )
