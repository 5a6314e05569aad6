"""Saved screens (docs/saved-screens.md): the file of named screens (file.py), a screen's picks on a
session and who entered and left (picks.py), what a materialization shows (report.py), and the alert when
its picks change (alerts.py). No Dagster here; ntx_assets/defs/screens/ turns each screen into an asset."""
