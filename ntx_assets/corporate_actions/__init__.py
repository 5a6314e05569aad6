"""The corporate-actions family's rules: announcements as rows, and which action explains a re-basing.
The Dagster objects are in ntx_assets/defs/corporate_actions/."""
