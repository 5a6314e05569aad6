"""Binds the resources every asset uses, from the NTX_* settings (a bad value fails here, at load).

Secrets are bound as `dg.EnvVar`: the run reads the variable, and the UI (Deployment -> Resources, and its
GraphQL API) shows the variable's name, never its value. The settings are still validated here, so a bad
value fails at load with a message naming the variable.
"""

import dagster as dg

from ntx_assets.resources import (
    AlertsResource,
    ArtifactStoreResource,
    CheckTargetsResource,
    ExportResource,
    NepseResource,
    PriceArchiveResource,
    WarehouseResource,
)
from ntx_assets.settings import ENV_PREFIX, definitions_settings

# The warehouse URL carries the database password when there is one.
DATABASE_URL_VARIABLE = f"{ENV_PREFIX}DATABASE_URL"
# A webhook's URL carries its token (Slack, Discord).
ALERT_WEBHOOK_VARIABLE = f"{ENV_PREFIX}ALERT_WEBHOOK_URL"


@dg.definitions
def resources() -> dg.Definitions:
    settings = definitions_settings()
    # Unset, the warehouse is the embedded SQLite file under NTX_DATA_DIR: a path, not a secret.
    database_url = dg.EnvVar(DATABASE_URL_VARIABLE) if settings.database_url else settings.warehouse_url
    return dg.Definitions(
        resources={
            "nepse": NepseResource.from_settings(settings),
            "warehouse": WarehouseResource(database_url=database_url),
            "artifact_store": ArtifactStoreResource.from_settings(settings),
            "check_targets": CheckTargetsResource.from_settings(settings),
            "exports": ExportResource.from_settings(settings),
            "price_archive": PriceArchiveResource.from_settings(settings),
            "alerts": AlertsResource(
                webhook_url=dg.EnvVar(ALERT_WEBHOOK_VARIABLE) if settings.alert_webhook_url else None,
                webhook_format=settings.alert_webhook_format,
            ),
        }
    )
