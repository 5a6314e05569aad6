"""A code location module that fails at import, like a definitions module missing a setting."""

raise RuntimeError("toy_location.broken: NTX_TOY_SETTING is not set (raised on purpose by the harness test)")
