"""Servers for the client tests: `mapiwire serve` started in this process on 127.0.0.1, free port."""

import pytest

from mapiwire.client.auth import parse_auth
from mapiwire.client.profiles import OutlookClient
from mapiwire.dissect.decode import Decoder


@pytest.fixture(scope="module")
def server():
    from mapiwire.server import running_server

    with running_server(port=0, pending_period=0.1, notification_wait_limit=20) as srv:
        yield srv


def outlook(url, user="alice", **options) -> OutlookClient:
    return OutlookClient(url, parse_auth(f"{user}:{user}-pw"), **options)


def records(exchanges) -> list[dict]:
    """The dissector's records of the MAPI/HTTP exchanges."""
    decoder = Decoder()
    return [r for r in (decoder.decode(e) for e in exchanges) if r is not None]


def rop_return_values(record) -> list[tuple[str, int]]:
    """(RopName, ReturnValue) of each response ROP of an Execute record."""
    buffer = (record.get("response") or {}).get("RopBuffer") or {}
    return [(r.get("RopName"), r.get("ReturnValue")) for r in buffer.get("RopsList", []) if "ReturnValue" in r]
