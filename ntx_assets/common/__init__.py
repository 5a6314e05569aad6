"""What every family shares and no family owns: Nepal's clock, its fiscal year, NEPSE's free text.
No Dagster, no I/O."""
