"""A throwaway code location for the DagsterDeployment harness's own test (no network, no warehouse)."""
