"""Random and mutated bodies thrown at a running server over real sockets: every answer is a
well-formed MAPI/HTTP response (MS-OXCMAPIHTTP 2.2.2.2: HTTP 200, X-ResponseCode; a refusal is
text/html, an accepted request a PROCESSING ... DONE inner stream) and the server keeps serving."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect.defs.core import build
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.dissect.transport import RESPONSE_CODES
from mapiwire.server import running_server

from mapiwire.server.autodiscover import autodiscover
from mapiwire.server.nspi import AddressBookSession

from .fakes import FakeMailbox, FakeStore
from .front_client import NO_AUX, MapiClient, execute_body, receive_folder
from .test_app_endpoints import STAT
from .test_sessions import ALICE_DN

SEEDS = [
    execute_body([receive_folder("IPM.Note")], flags=0, header_flags=0x7),
    execute_body([receive_folder("IPM.Note")]),
    build(BODIES["NotificationWait"].request, {"Flags": 0, "AuxiliaryBuffer": {"Blocks": []}}),
    build(BODIES["Connect"].request, {"UserDn": ALICE_DN, "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033,
                                      "LcidString": 1033, "AuxiliaryBuffer": {"Blocks": []}}),
    build(BODIES["GetProps"].request, {"Flags": 0, "HasState": 1, "State": STAT, "HasPropertyTags": 1,
                                       "PropertyTags": {"PropertyTags": [{"PropertyType": 0x1F, "PropertyId": 0x3001}]},
                                       "AuxiliaryBuffer": NO_AUX}),
    build(BODIES["DNToMId"].request, {"Reserved": 0, "HasNames": 1, "Names": {"Strings": [ALICE_DN]},
                                      "AuxiliaryBuffer": NO_AUX}),
]
BIND = build(BODIES["Bind"].request, {"Flags": 0, "HasState": 1, "State": STAT, "AuxiliaryBuffer": NO_AUX})


@st.composite
def bodies(draw):
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[position:]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@pytest.fixture(scope="module")
def srv():
    with running_server(store=FakeStore(), mailbox_factory=FakeMailbox, addressbook_factory=AddressBookSession,
                        autodiscover=autodiscover, pending_period=0.1, notification_wait_limit=0.05) as server:
        yield server


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(["emsmdb", "nspi"]),
       request_type=st.sampled_from(["Execute", "Connect", "NotificationWait", "PING", "Disconnect", "Bind",
                                     "GetProps", "DNToMId", "QueryRows", "Unbind", "Execut\u00e9", ""]),
       body=bodies(), with_cookies=st.booleans())
def test_random_bodies_get_well_formed_answers(srv, endpoint, request_type, body, with_cookies):
    client = MapiClient(srv.url)
    if with_cookies and endpoint == "emsmdb":
        assert client.connect(ALICE_DN).code == 0
    elif with_cookies:
        assert client.post("nspi", "Bind", BIND).code == 0
    reply = client.post(endpoint, request_type.encode("utf-8").decode("latin-1") or None, body)
    assert reply.status == 200
    code = reply.code
    assert code in RESPONSE_CODES
    if code:
        assert reply.header("Content-Type").startswith("text/html")
        return
    inner = reply.inner
    assert inner.meta[0] == "PROCESSING" and inner.meta[-1] == "DONE" and not inner.errors
    assert "X-ResponseCode" in dict(inner.headers)
    if dict(inner.headers)["X-ResponseCode"] == "0" and BODIES[request_type].success is not None:
        reply.body(request_type)  # the body parses with the request type's definitions


def test_server_keeps_serving_after_the_fuzz(srv):
    client = MapiClient(srv.url)
    assert client.connect(ALICE_DN).code == 0
    assert client.execute([receive_folder()]).inner_code == 0
