"""Every client profile against a real `mapiwire serve` over loopback sockets: every X-ResponseCode 0,
every ROP ReturnValue as expected (0), every exchange decoded by the dissector with no errors."""

import pytest

from mapiwire.client.profiles import delivered, run_profile, send

from .conftest import outlook, records, rop_return_values


def check_clean(exchanges):
    recs = records(exchanges)
    assert recs, "no MAPI/HTTP exchange"
    assert [(r["request_type"], r["response_code"]) for r in recs if r["response_code"] != 0] == []
    assert [(r["index"], r["errors"]) for r in recs if r["errors"]] == []
    bad = [(r["index"], name, value) for r in recs for name, value in rop_return_values(r) if value != 0]
    assert bad == []
    return recs


@pytest.mark.parametrize("profile", ["startup", "browse", "send", "idle"])
def test_profile_runs_clean(server, profile):
    client = outlook(server.url)
    run_profile(profile, client)
    recs = check_clean(client.exchanges)
    types = {r["request_type"] for r in recs}
    assert {"Connect", "Execute", "Disconnect", "Bind", "Unbind"} <= types
    flags = {h["Flags"] & 0x3 for r in recs if r["request_type"] == "Execute"
             for h in r["request"]["RopBuffer"]["RPC_HEADER_EXT"]}
    assert 0x3 in flags  # compressed and obfuscated requests (MS-OXCRPC 3.1.4.1.1), as Outlook sends
    if profile == "idle":
        assert {"NotificationWait", "PING"} <= types and client.notifications
        assert any(n["RopName"] == "RopNotify" for n in client.notifications)


def test_day_switches_networks_and_keeps_the_session(server):
    client = outlook(server.url)
    run_profile("day", client, gap=0.2)
    recs = check_clean(client.exchanges)
    mailbox = [r for r in recs if r["endpoint"] == "emsmdb" and client.instance.guid in r["client_info"]]
    assert len({r["session"] for r in mailbox}) == 1  # one context across both switches (the other device aside)
    assert {r["client"].split(":")[0] for r in mailbox} == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
    assert client.mailbox.reconnects == 0


def test_send_reaches_another_users_inbox(server):
    alice, bob = outlook(server.url), outlook(server.url, "bob")
    subject = send(alice, to="bob", subject="mapiwire to bob")
    from mapiwire.client.profiles import startup

    startup(bob)
    assert delivered(bob, subject)
    alice.close()
    bob.close()
    check_clean(alice.exchanges + bob.exchanges)


def test_client_command_runs_a_profile_and_records_it(server, tmp_path):
    import subprocess
    import sys

    from mapiwire.dissect.sources import open_capture

    har = tmp_path / "startup.har"
    out = subprocess.run([sys.executable, "-m", "mapiwire.cli", "client", server.url, "--profile", "startup",
                          "--user", "alice:alice-pw", "--record", str(har)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    last = out.stdout.splitlines()[-1]
    assert last.startswith("profile startup: ") and "all as expected" in last and "X-ResponseCode 0:" in last
    assert "Execute: RopLogon, RopGetReceiveFolder" in out.stdout
    assert len(records(open_capture(str(har)))) == int(last.split(": ")[1].split()[0])
