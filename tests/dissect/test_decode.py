"""The decoder: exchanges in, JSON-contract records out; errors as data; sessions."""

import copy
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.dissect.render import render_text
from mapiwire.samples import failures, mailbox_session

CONTRACT_KEYS = {"index", "time", "connection", "client", "server", "endpoint", "request_type", "request_id",
                 "client_info", "session", "status", "response_code", "elapsed_ms", "request", "response", "errors"}


def decode_all(exchanges):
    decoder = Decoder()
    return [r for r in (decoder.decode(e) for e in exchanges) if r is not None]


def test_mailbox_session_records_follow_the_contract():
    records = decode_all(mailbox_session())
    assert [r["request_type"] for r in records] == ["Connect", "NotificationWait", "PING", "PING", "Disconnect"]
    for record in records:
        assert CONTRACT_KEYS <= set(record)
        assert record["errors"] == [], record["errors"]
        assert record["endpoint"] == "emsmdb" and record["status"] == 200 and record["response_code"] == 0
        json.dumps(record)  # plain JSON values only
    connect = records[0]
    assert connect["session"] == "ctx-7f3a9c"  # the context cookie the Connect response set
    assert connect["time"].endswith("Z") and connect["request_id"].endswith(":1")
    assert connect["request"]["LcidSort"] == 1033
    blocks = connect["request"]["AuxiliaryBuffer"]["Blocks"]
    assert [b["AUX_HEADER"]["TypeName"] for b in blocks] == [
        "AUX_TYPE_PERF_REQUESTID", "AUX_TYPE_PERF_CLIENTINFO", "AUX_TYPE_CLIENT_CONNECTION_INFO"]
    assert blocks[1]["AUX_PERF_CLIENTINFO"]["MachineName"] == "BOB-LAPTOP"
    response = connect["response"]
    assert response["meta"] == ["PROCESSING", "DONE"]
    assert response["additional_headers"]["X-ElapsedTime"] == "12"
    assert response["DisplayName"] == "Bob Smith" and response["StatusCode"] == 0
    server_blocks = response["AuxiliaryBuffer"]["Blocks"]
    assert server_blocks[0]["AUX_CLIENT_CONTROL"]["EnableFlagsName"] == (
        "ENABLE_PERF_SENDTOSERVER|ENABLE_PERF_SENDTOMAILBOX|ENABLE_COMPRESSION")
    wait = records[1]
    assert wait["response"]["meta"] == ["PROCESSING", "PENDING", "PENDING", "DONE"]
    assert wait["response"]["EventPending"] == 0  # no events: the flow-less session has none
    assert {r["session"] for r in records} == {"ctx-7f3a9c"}
    assert records[2]["client"] != records[3]["client"]  # the network change keeps the session
    assert "Connect" in render_text(connect) and "AUX_PERF_CLIENTINFO" in render_text(connect)


def test_failures_are_reported_not_decoded():
    expired, empty, refused, reconnect = decode_all(failures())
    assert expired["response_code"] == 10 and expired["response_code_name"] == "Context Not Found"
    assert expired["response"]["text"].startswith("<html>")
    assert expired["session"] == "expired-ctx"
    assert 'X-ResponseCode 10 (Context Not Found: "Context not found")' in render_text(expired)
    assert empty["response_code"] == 10 and empty["response"] == {"meta": []} and empty["errors"] == []
    assert refused["response"]["StatusCode"] == 0x3EB and refused["response"]["AuxiliaryBufferSize"] == 0
    assert "        StatusCode: 0x3eb (ecUnknownUser)" in render_text(refused)  # hex with name, as everywhere
    assert reconnect["session"] == "ctx-reconnected"


def test_non_mapi_exchange_is_skipped():
    request = HttpMessage(headers=[("Content-Type", "text/xml")], body=b"<a/>", method="POST", target="/ews/")
    assert Decoder().decode(Exchange(request=request, response=None)) is None


def test_truncated_body_is_an_error_and_the_next_exchange_decodes():
    exchanges = mailbox_session()
    broken = copy.deepcopy(exchanges[0])
    broken.request.body = broken.request.body[:30]
    records = decode_all([broken] + exchanges)
    first = records[0]
    assert first["request"]["Undecoded"] == broken.request.body.hex()
    assert first["errors"] and first["errors"][0]["where"].startswith("request")
    assert "offset" in first["errors"][0]
    assert records[1]["errors"] == [] and records[1]["request"]["UserDn"].startswith("/o=Contoso")


def test_garbage_after_done_and_unknown_request_type():
    exchanges = mailbox_session()
    bad = copy.deepcopy(exchanges[0])
    bad.response.body = bad.response.body.replace(b"X-ElapsedTime: 12", b"no colon here")
    odd = copy.deepcopy(exchanges[2])
    odd.request.headers = [(k, "Frobnicate" if k == "X-RequestType" else v) for k, v in odd.request.headers]
    first, second = decode_all([bad, odd])
    assert any("not a header line" in e["error"] for e in first["errors"])
    assert any("unknown X-RequestType" in e["error"] for e in second["errors"])


EXCHANGES = mailbox_session() + failures()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(EXCHANGES) - 1), st.sampled_from(["request", "response"]),
       st.integers(0, 2000), st.binary(max_size=8), st.booleans())
def test_mutated_bodies_never_raise(which, side, position, patch, truncate):
    exchange = copy.deepcopy(EXCHANGES[which])
    message = getattr(exchange, side)
    body = message.body
    position = position % (len(body) + 1)
    message.body = body[:position] if truncate else body[:position] + patch + body[position + len(patch):]
    record = Decoder().decode(exchange)
    assert record is not None
    json.dumps(record)
