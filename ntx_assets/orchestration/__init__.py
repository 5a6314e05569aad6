"""What the Dagster objects under defs/ share that is not itself a Dagster object: the automation
condition, partial success of range runs, run-request tags, and the NEPSE step's metrics and run bound.

Kept out of defs/ because everything there is loaded as definitions."""
