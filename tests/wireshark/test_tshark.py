"""The generated plugin in tshark, compared with mapiwire's own decode, exchange by exchange.

Runs `tshark -X lua_script:wireshark/mapiwire.lua -T pdml` (tshark 4.0, Lua 5.2) in an empty
configuration on every pcap/pcapng under captures/, the TLS captures of tests/data/tls, a fresh
capture of mapiwire.samples' sessions, a capture of every ROP vector of the ROP tests
(tests/wireshark/sessions.py), and mutated copies of the last two, and checks: no Lua error; the
same request types, X-ResponseCodes, RopIds and ROP names in order; every field of every ROP and
body equal, and the same property names (tests/wireshark/compare.py); problems reported by both
(expert info on the plugin's side); the same tree on tshark's two-pass run. Then the edges of
the HTTP side: a refused request (X-ResponseCode, text/html body), ordinary HTML left alone,
PING requests (no body, never seen by the plugin) in the request/response pairing, and named
properties named per session. Skipped without tshark.
"""

import copy
import glob
import os
import random
import subprocess
import xml.etree.ElementTree as ET

import pytest

from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.dissect.sources.writers import serialize, write_capture
from mapiwire.samples import Session, address_book_session, aux, failures, mailbox_session, outlook_flow, rop_request
from tests.wireshark.compare import TSHARK, compare_capture, lua_errors, lua_messages, python_records, tshark_pdml
from tests.wireshark.sessions import vector_session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, "wireshark", "mapiwire.lua")
SESSION = os.path.join(ROOT, "captures", "outlook-session.pcapng")
CAPTURES = sorted(glob.glob(os.path.join(ROOT, "captures", "*.pcap")) +
                  glob.glob(os.path.join(ROOT, "captures", "*.pcapng")))
TLS = sorted(glob.glob(os.path.join(ROOT, "tests", "data", "tls", "*.pcapng")))

pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """An empty HOME / WIRESHARK_CONFIG_DIR: no user preferences or plugins."""
    return str(tmp_path_factory.mktemp("wireshark-home"))


@pytest.fixture(scope="module")
def vectors_capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("captures") / "rop-vectors.pcapng"
    write_capture(str(path), vector_session())
    return str(path)


def sample_sessions() -> list:
    """mapiwire.samples' sessions: every request type, a network change, failures."""
    return mailbox_session(outlook_flow(messages=5), pending=2) + address_book_session() + failures()


def assert_same(result, counts, min_compared=0):
    assert not result.mismatches, "\n".join(result.mismatches[:40])
    assert not result.missing, "\n".join(result.missing[:40])
    assert result.compared >= min_compared, (result.compared, counts)


def _keylog(capture: str) -> str | None:
    """The TLS key log beside a capture (`x.pcapng` + `x.keys`), if any."""
    keys = os.path.splitext(capture)[0] + ".keys"
    return keys if os.path.exists(keys) else None


@pytest.mark.parametrize("capture", CAPTURES, ids=[os.path.basename(p) for p in CAPTURES])
def test_sample_capture_matches_mapiwire(capture, home):
    result, counts = compare_capture(capture, PLUGIN, home, keylog=_keylog(capture))
    assert counts["messages"] > 0
    assert_same(result, counts, min_compared=100)
    assert result.names > 0


@pytest.mark.parametrize("capture", TLS, ids=[os.path.basename(p) for p in TLS])
def test_tls_capture_matches_mapiwire(capture, home):
    keylog = _keylog(capture)
    result, counts = compare_capture(capture, PLUGIN, home, keylog=keylog, tls=keylog is None)
    assert counts["messages"] == 2 * counts["records"] > 0  # decrypted: every request and response seen
    assert_same(result, counts)


def test_sample_sessions_match_mapiwire(tmp_path, home):
    """The sessions captures/ is built from, written afresh (whatever captures/ holds)."""
    capture = str(tmp_path / "samples.pcap")
    write_capture(capture, sample_sessions(), format="pcap")
    result, counts = compare_capture(capture, PLUGIN, home)
    assert {"Execute", "Bind", "GetMatches"} <= counts["request_types"]
    assert_same(result, counts, min_compared=300)


def test_every_rop_vector_matches_mapiwire(vectors_capture, home):
    result, counts = compare_capture(vectors_capture, PLUGIN, home)
    assert counts["rops"] > 300
    assert_same(result, counts, min_compared=3000)


def test_two_pass_run_shows_the_same(vectors_capture, home):
    """tshark -2 (like Wireshark redrawing a packet): pairing and state come from the cache."""
    one, _ = tshark_pdml(vectors_capture, PLUGIN, home)
    two, stderr = tshark_pdml(vectors_capture, PLUGIN, home, "-2")
    assert not lua_errors(two, stderr)
    first = [m.proto for m in lua_messages(one)]
    second = [m.proto for m in lua_messages(two)]
    assert len(first) == len(second) > 0
    assert [ET.tostring(p) for p in first] == [ET.tostring(p) for p in second]


def test_two_pass_run_shows_body_less_messages_the_same(home):
    """tshark -2 on the sample session: its PING requests and the refusal with an empty body (shown
    by the post-dissector) are paired the same way on the second pass."""
    one, _ = tshark_pdml(SESSION, PLUGIN, home)
    two, stderr = tshark_pdml(SESSION, PLUGIN, home, "-2")
    assert not lua_errors(two, stderr)
    first, second = lua_messages(one), lua_messages(two)
    assert [m.field("mapihttp.request_type") for m in first].count("PING") == 6
    assert [ET.tostring(m.proto) for m in first] == [ET.tostring(m.proto) for m in second]


def test_two_pass_run_with_a_read_filter_pairs_as_one_pass(home):
    """tshark -2 -R: on the first pass, the frames the filter drops take the number of the next
    frame it keeps; pairing and state still follow the capture, so each response's ROPs show as
    in one pass."""
    wanted = 'mapihttp.request_type == "Execute"'
    one, _ = tshark_pdml(SESSION, PLUGIN, home, "-Y", wanted)
    two, stderr = tshark_pdml(SESSION, PLUGIN, home, "-2", "-R", wanted)
    assert not lua_errors(two, stderr)

    def responses(pdml):
        return [[ET.tostring(rop) for rop in m.rops()] + m.experts()
                for m in lua_messages(pdml) if m.direction == "response"]

    assert len(responses(one)) > 5
    assert responses(two) == responses(one)


def test_malformed_capture_gives_expert_info_and_no_lua_error(home):
    capture = os.path.join(ROOT, "captures", "malformed.pcap")
    if not os.path.exists(capture):
        pytest.skip("captures/malformed.pcap not built")
    pdml, stderr = tshark_pdml(capture, PLUGIN, home)
    assert not lua_errors(pdml, stderr)
    experts = [e for m in lua_messages(pdml) for e in m.experts()]
    assert len(experts) >= 4, experts
    assert any("unknown RopId" in e for e in experts)


def _mutated(seed: int) -> list:
    """The vector and sample sessions with 1-3 random bytes changed in every body, some bodies
    cut short."""
    rng = random.Random(seed)
    out = []
    for exchange in vector_session() + sample_sessions():
        exchange = copy.deepcopy(exchange)
        for message in (exchange.request, exchange.response):
            if message is None:
                continue
            body = bytearray(message.body)
            start = body.find(b"\r\n\r\n") + 4 if message is exchange.response else 0
            if len(body) > start + 8:
                for _ in range(rng.randint(1, 3)):
                    body[rng.randrange(start, len(body))] = rng.randrange(256)
                if rng.random() < 0.2:
                    body = body[:rng.randrange(start + 1, len(body))]
            message.body = bytes(body)
            message.chunks = None
            message.headers = [(k, str(len(body)) if k == "Content-Length" else v) for k, v in message.headers]
        out.append(exchange)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_mutated_bodies_give_no_lua_error_and_match_mapiwire(seed, tmp_path, home):
    capture = str(tmp_path / f"mutated-{seed}.pcapng")
    write_capture(capture, _mutated(seed))
    result, counts = compare_capture(capture, PLUGIN, home)
    assert_same(result, counts)


def test_a_lua_bug_is_reported_as_expert_info(vectors_capture, tmp_path, home):
    """Every dissection runs under pcall: even a bug in the runtime becomes expert info on the
    message (and the test helpers count it as a Lua error)."""
    with open(PLUGIN, encoding="utf-8") as f:
        plugin = f.read()
    broken = plugin.replace("function R.uint(c, tree, f, n)\n", "function R.uint(c, tree, f, n)\n    error(\"boom\")\n", 1)
    assert broken != plugin
    path = tmp_path / "broken.lua"
    path.write_text(broken, encoding="utf-8")
    pdml, stderr = tshark_pdml(vectors_capture, str(path), home)
    assert "Lua Error" not in pdml and "boom" not in stderr
    assert any("boom" in error for error in lua_errors(pdml, stderr))
    assert len(lua_messages(pdml)) > 0


def _frames(pdml: str) -> list:
    return list(ET.fromstring(pdml).iter("packet"))


def _request_frames(pdml: str) -> dict[str, int]:
    """X-RequestId -> frame number of every HTTP request (with or without a body)."""
    out = {}
    for packet in _frames(pdml):
        frame = int(packet.find("proto[@name='frame']/field[@name='frame.number']").get("show"))
        for el in packet.iter("field"):
            name, _, value = (el.get("show") or "").partition(":")
            if el.get("name") == "http.request.line" and name.strip().lower() == "x-requestid":
                out[value.strip()] = frame
    return out


def test_response_code_filter_finds_the_refused_executes(home):
    """MS-OXCMAPIHTTP 2.2.3.2.2: a response with a non-zero X-ResponseCode is text/html. The sample
    session has two: one with the server's text, and the expired context after a 2-hour gap with an
    empty body, which reaches no body dissector (the post-dissector shows it). Both are paired with
    their requests and show the code, its name and the text."""
    pdml, stderr = tshark_pdml(SESSION, PLUGIN, home, "-Y", "mapihttp.response_code != 0")
    assert not lua_errors(pdml, stderr)
    messages = lua_messages(pdml)
    records = [r for r in python_records(SESSION) if r["response_code"]]
    assert [(r["response_code"], r["response_code_name"], bool(r["response"].get("text"))) for r in records] == [
        (10, "Context Not Found", True), (10, "Context Not Found", False)]
    assert [(m.direction, m.field("mapihttp.request_type"), m.field("mapihttp.response_code")) for m in messages] == [
        ("response", "Execute", "10")] * 2
    code = messages[0].proto.find(".//field[@name='mapihttp.response_code']")
    assert code.get("showname") == "X-ResponseCode: Context Not Found (10)"
    everything, _ = tshark_pdml(SESSION, PLUGIN, home)
    frames = _request_frames(everything)
    for refused, record in zip(messages, records):
        assert refused.field("mapihttp.request_id") == record["request_id"]
        assert refused.field("mapihttp.text") == record["response"].get("text")
        assert int(refused.field("mapihttp.request_frame")) == frames[record["request_id"]]


def test_ordinary_html_is_left_to_the_text_html_dissector(tmp_path, home):
    """text/html without X-ResponseCode (a web page; a MAPI request answered by a proxy's error
    page) dissects exactly as without the plugin; the proxy's answer to a MAPI request gets a
    MAPI/HTTP tree too, paired with its request."""
    page = b"<html>\r\n<body><p>It works</p></body>\r\n</html>\r\n"
    web = Exchange(HttpMessage(headers=[("Host", "intranet.contoso.com")], method="GET", target="/", time=1.7e9),
                   HttpMessage(headers=[("Content-Type", "text/html; charset=utf-8")], body=page, status=200,
                               reason="OK", time=1.7e9 + 0.01, end_time=1.7e9 + 0.01), connection="web")
    s = Session("emsmdb", connection="proxied")
    proxied = s.add("Execute", {"Flags": 0, "RopBuffer": rop_request([], []), "MaxRopOut": 0x40000,
                                "AuxiliaryBuffer": aux()}, None, raw_response=page, chunked=False)
    proxied.response.status, proxied.response.reason = 502, "Bad Gateway"
    proxied.response.headers = [("Content-Type", "text/html"), ("Content-Length", str(len(page)))]
    capture = str(tmp_path / "html.pcapng")
    write_capture(capture, [web, proxied])
    with_plugin, stderr = tshark_pdml(capture, PLUGIN, home)
    without, _ = tshark_pdml(capture, None, home)
    assert not lua_errors(with_plugin, stderr)
    messages = lua_messages(with_plugin)
    assert [(m.direction, m.field("mapihttp.request_type")) for m in messages] == [
        ("request", "Execute"), ("response", "Execute")]  # the proxied Execute only
    assert messages[1].field("mapihttp.request_frame") == str(messages[0].frame)

    def html(pdml):
        return [ET.tostring(p).strip() for packet in _frames(pdml) for p in packet if p.get("name") == "data-text-lines"]

    assert len(html(without)) == 2
    assert html(with_plugin) == html(without)


def _execute(s: Session, **options):
    return s.add("Execute", {"Flags": 0, "RopBuffer": rop_request([], []), "MaxRopOut": 0x40000,
                             "AuxiliaryBuffer": aux()},
                 {"StatusCode": 0, "ErrorCode": 0, "Flags": 0, "RopBuffer": rop_request([], []),
                  "AuxiliaryBuffer": aux()}, **options)


def _refuse(exchange, code: int, content_type: str) -> None:
    """A refusal (MS-OXCMAPIHTTP 2.2.3.3.3 X-ResponseCode) with the given Content-Type."""
    exchange.response.headers = [(k, str(code) if k == "X-ResponseCode" else content_type if k == "Content-Type"
                                  else v) for k, v in exchange.response.headers]


def test_ping_requests_are_dissected_and_paired(tmp_path, home):
    """A PING request has no body: the post-dissector gives it its tree. On one connection: an
    Execute answered by a body-less 401, a PING whose response lacks X-RequestId, an Execute, a
    PING: every request and response is shown, each response paired with its own request."""
    s = Session("emsmdb", connection="keepalive")
    s.cookies = {"MapiContext": "ping-ctx", "MapiSequence": "p-1"}
    unauthorized = _execute(s)
    unauthorized.response = HttpMessage(headers=[("Content-Length", "0")], status=401, reason="Unauthorized",
                                        time=unauthorized.response.time, end_time=unauthorized.response.end_time)
    ping = s.add("PING", None, None)
    ping.response.headers = [(k, v) for k, v in ping.response.headers if k != "X-RequestId"]
    second = _execute(s)
    last_ping = s.add("PING", None, None)
    capture = str(tmp_path / "ping.pcapng")
    write_capture(capture, s.exchanges)
    pdml, stderr = tshark_pdml(capture, PLUGIN, home)
    assert not lua_errors(pdml, stderr)
    frames = _request_frames(pdml)
    exchanges = (unauthorized, ping, second, last_ping)
    expected = [(e.request.header("X-RequestType"), frames[e.request.header("X-RequestId")]) for e in exchanges]
    messages = lua_messages(pdml)
    assert [(m.field("mapihttp.request_type"), m.frame) for m in messages if m.direction == "request"] == expected
    assert [(m.field("mapihttp.request_type"), int(m.field("mapihttp.request_frame")))
            for m in messages if m.direction == "response"] == expected
    result, counts = compare_capture(capture, PLUGIN, home)
    assert_same(result, counts)


def _info(capture: str, home: str, display_filter: str) -> list[str]:
    """The Info column of the frames a display filter keeps."""
    env = dict(os.environ, HOME=home, WIRESHARK_CONFIG_DIR=home, XDG_CONFIG_HOME=home)
    out = subprocess.run([TSHARK, "-r", capture, "-X", f"lua_script:{PLUGIN}", "-Y", display_filter, "-T", "fields",
                          "-e", "_ws.col.Info"], capture_output=True, env=env, timeout=120, check=True)
    return out.stdout.decode().splitlines()


def test_response_code_filter_finds_a_refusal_with_an_empty_body(tmp_path, home):
    """The expired context of issue 8: X-ResponseCode 10 in an empty text/html response reaches no
    body dissector; the post-dissector shows it, paired with its request, so that
    `mapihttp.response_code != 0` finds it, as it finds a refusal with a text/plain body."""
    s = Session("emsmdb", connection="expired")
    s.cookies = {"MapiContext": "expired-ctx", "MapiSequence": "x-1"}
    s.add("PING", None, None)
    empty = _execute(s, raw_response=b"", chunked=False)
    _refuse(empty, 10, "text/html")
    plain = _execute(s, raw_response=b"Invalid sequence cookie", chunked=False)
    _refuse(plain, 15, "text/plain; charset=utf-8")
    capture = str(tmp_path / "expired.pcapng")
    write_capture(capture, s.exchanges)
    assert empty.response.header("Content-Length") == "0"
    pdml, stderr = tshark_pdml(capture, PLUGIN, home, "-Y", "mapihttp.response_code != 0")
    assert not lua_errors(pdml, stderr)
    messages = lua_messages(pdml)
    assert [(m.direction, m.field("mapihttp.request_type"), m.field("mapihttp.response_code"),
             m.field("mapihttp.text")) for m in messages] == [
        ("response", "Execute", "10", None), ("response", "Execute", "15", "Invalid sequence cookie")]
    everything, _ = tshark_pdml(capture, PLUGIN, home)
    frames = _request_frames(everything)
    assert [int(m.field("mapihttp.request_frame")) for m in messages] == [
        frames[e.request.header("X-RequestId")] for e in (empty, plain)]
    assert _info(capture, home, "mapihttp.response_code == 10") == [
        "Execute response [X-ResponseCode 10: Context Not Found]"]
    result, counts = compare_capture(capture, PLUGIN, home)
    assert_same(result, counts)


def test_messages_sharing_a_frame_keep_their_order(tmp_path, home):
    """A PING pipelined before an Execute in one TCP segment, and their responses in one segment:
    the body-less PING is queued before the Execute (the FIFO keeps the order of the capture) and
    each response finds its own request."""
    s = Session("emsmdb", connection="pipelined")
    s.cookies = {"MapiContext": "pipe-ctx", "MapiSequence": "q-1"}
    ping = s.add("PING", None, None, chunked=False)
    execute = _execute(s, chunked=False)
    ping.request.body = serialize(execute.request)  # after the PING's empty body (Content-Length: 0)
    ping.response.body += serialize(execute.response)  # after the PING response's Content-Length bytes
    capture = str(tmp_path / "pipelined.pcapng")
    write_capture(capture, [ping])
    pdml, stderr = tshark_pdml(capture, PLUGIN, home)
    assert not lua_errors(pdml, stderr)
    messages = lua_messages(pdml)
    requests = {m.field("mapihttp.request_type"): m for m in messages if m.direction == "request"}
    responses = {m.field("mapihttp.request_type"): m for m in messages if m.direction == "response"}
    assert set(requests) == set(responses) == {"PING", "Execute"}
    assert requests["PING"].frame == requests["Execute"].frame
    for name in ("PING", "Execute"):
        assert responses[name].field("mapihttp.request_id") == requests[name].field("mapihttp.request_id")
        assert responses[name].field("mapihttp.request_frame") == str(requests[name].frame)
    assert not [e for m in messages for e in m.experts()]


def test_named_properties_are_named_per_session(home):
    """RopGetPropertyIdsFromNames maps PidLidInternetAccountName and PidNameKeywords to 0x8001 and
    0x8002 in the session of captures/outlook-session.pcapng: the RopGetPropertiesSpecific response
    after it in the same Execute names its values so, as mapiwire does."""
    record = next(r for r in python_records(SESSION) if "RopGetPropertyIdsFromNames" in str(r["response"]))
    rops = record["response"]["RopBuffer"]["RopsList"]
    rop = next(rop for rop in rops if rop["RopName"] == "RopGetPropertiesSpecific")
    expected = [(v["PropertyTag"], v["PropertyName"]) for v in rop["RowData"]["ValueArray"]
                if v["PropertyTag"] >> 16 >= 0x8000]
    assert expected == [(0x8001000B, "PidLidInternetAccountName"), (0x8002101F, "PidNameKeywords")]
    pdml, stderr = tshark_pdml(SESSION, PLUGIN, home, "-Y", 'oxcdata.propertytag.name == "PidNameKeywords"')
    assert not lua_errors(pdml, stderr)
    messages = lua_messages(pdml)
    assert [(m.direction, m.headers["x-requestid"]) for m in messages] == [("response", record["request_id"])]
    (getprops,) = [r for r in messages[0].rops() if r.get("showname") == "RopGetPropertiesSpecific"]
    shown = [(el.get("showname"), el.find("field[@name='oxcdata.propertytag.name']").get("show"))
             for el in getprops.iter("field") if el.find("field[@name='oxcdata.propertytag.name']") is not None]
    assert shown == [  # name first, then type and tag (MS-OXPROPS, MAPI Inspector)
        ("PidLidInternetAccountName: error 0x8004010F (ecNotFound) (PtypBoolean, 0x8001000B)", "PidLidInternetAccountName"),
        ("PidNameKeywords: 2 values (PtypMultipleString, 0x8002101F)", "PidNameKeywords")]


def test_tshark_v_reads_name_first(home):
    """Issue 8 point 2: properties name first, as MAPI Inspector and MS-OXPROPS write them, then
    type and tag; code pages and LCIDs by name (tools/data, defs/locales.py); no "Unknown"."""
    env = dict(os.environ, HOME=home, WIRESHARK_CONFIG_DIR=home, XDG_CONFIG_HOME=home)
    out = subprocess.run([TSHARK, "-r", SESSION, "-X", f"lua_script:{PLUGIN}", "-V", "-O", "mapihttp,rop"],
                         capture_output=True, env=env, timeout=120, check=True).stdout.decode()
    lines = {line.strip() for line in out.splitlines()}
    for expected in (
            "PidTagSubject: Quarterly report 0: please review the attached figures (PtypString, 0x0037001F)",
            "PidTagMessageDeliveryTime: 2022-06-18T04:26:40Z (PtypTime, 0x0E060040)",
            "PidTagHasAttachments: true (PtypBoolean, 0x0E1B000B)",
            "PropertyTag [1]: PidTagSubject (PtypString, 0x0037001F)",
            "PidTagDisplayName: Inbox (PtypString, 0x3001001F)",  # a FlaggedPropertyValue
            "PidTagDisplayName: All Users (PtypString, 0x3001001F)",  # an address book value
            "PidNameKeywords: 2 values (PtypMultipleString, 0x8002101F)",
            "DefaultCodePage: 1252 (Western European)", "LcidSort: 1033 (en-US)", "LcidString: 1033 (en-US)",
            "CodePage: 1252 (Western European)", "CodePage: 1200 (CP_WINUNICODE)",
            "TemplateLocale: 1033 (en-US)", "CurrentRec: 0 (MID_BEGINNING_OF_TABLE)"):
        assert expected in lines, expected
    assert not [line for line in lines if "Unknown (" in line]
