"""Replay a captured MAPI/HTTP session against a server (issue 12, REPLAY.md)."""
