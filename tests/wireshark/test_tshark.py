"""The generated plugin in tshark, compared with mapiwire's own decode, exchange by exchange.

Runs `tshark -X lua_script:wireshark/mapiwire.lua -T pdml` (tshark 4.0, Lua 5.2) in an empty
configuration on every pcap/pcapng under captures/, the TLS captures of tests/data/tls, a fresh
capture of mapiwire.samples' sessions, a capture of every ROP vector of the ROP tests
(tests/wireshark/sessions.py), and mutated copies of the last two, and checks: no Lua error; the
same request types, X-ResponseCodes, RopIds and ROP names in order; every field of every ROP and
body equal (tests/wireshark/compare.py); problems reported by both (expert info on the plugin's
side); the same tree on tshark's two-pass run. Skipped without tshark.
"""

import copy
import glob
import os
import random
import xml.etree.ElementTree as ET

import pytest

from mapiwire.dissect.sources.writers import write_capture
from mapiwire.samples import address_book_session, failures, mailbox_session, outlook_flow
from tests.wireshark.compare import TSHARK, compare_capture, lua_errors, lua_messages, tshark_pdml
from tests.wireshark.sessions import vector_session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, "wireshark", "mapiwire.lua")
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
