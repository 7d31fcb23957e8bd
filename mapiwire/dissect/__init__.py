"""Everything that turns captured bytes into decoded records (sans-IO)."""
