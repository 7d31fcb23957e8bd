"""A real address change: the client's address removed from its interface mid-session, in network
namespaces the test makes (unshare -rn, veth; REPLAY.md 3). Skipped where namespaces are not allowed."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

HELPER = pathlib.Path(__file__).with_name("netns_switch.py")


def namespaces_work() -> bool:
    if not all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip")):
        return False
    veth = ["ip", "link", "add", "vc", "type", "veth", "peer", "name", "vs"]
    probe = subprocess.run(["unshare", "-rn", "--fork", *veth], capture_output=True, timeout=10)
    return probe.returncode == 0


@pytest.mark.skipif(not namespaces_work(), reason="unprivileged network namespaces with veth are not available")
def test_session_survives_its_address_disappearing():
    result = subprocess.run(["unshare", "-rn", "--fork", sys.executable, str(HELPER)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    scenario = outcome["scenarios"][0]
    assert scenario["verdict"] == "as predicted" and scenario["reconnects"] == 0, scenario
    assert scenario["resume_s"] > 0 and scenario["reconnect_s"] > 0
    assert outcome["clients"] and all(c.startswith("10.200.0.7:") for c in outcome["clients"])
    assert outcome["exit_status"] == 0
