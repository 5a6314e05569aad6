"""Tools for developers, tests and the benchmark; nothing here is part of the code location."""
