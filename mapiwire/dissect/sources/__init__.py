"""Capture readers: files in, `Exchange` objects out (the only I/O of dissect)."""
