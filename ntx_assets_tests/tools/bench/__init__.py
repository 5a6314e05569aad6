"""`make bench`: measured figures, each reported as a ratio to its bound (a script, never a test)."""
