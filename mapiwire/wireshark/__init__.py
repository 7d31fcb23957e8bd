"""Wireshark support: the Lua plugin generator (`luagen.generate()`, `mapiwire export lua`)."""
