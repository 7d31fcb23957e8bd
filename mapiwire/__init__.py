"""mapiwire: dissect, replay and serve MAPI over HTTP (MS-OXCMAPIHTTP)."""

__version__ = "0.1.0"
