"""TLS captures as a user meets them (issue 8 point 8): embedded secrets used without a flag,
streams that stay encrypted named with their server and size by dissect, sessions and stats."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from mapiwire.dissect.sources import has_secrets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAIN = os.path.join(ROOT, "captures", "serve-tls.pcapng")
SECRETS = os.path.join(ROOT, "captures", "serve-tls-secrets.pcapng")
tshark = pytest.mark.skipif(not shutil.which("tshark"), reason="tshark decrypts TLS")


def mapiwire(*args):
    return subprocess.run([sys.executable, "-m", "mapiwire.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ, MAPIWIRE_NO_PROGRESS="1"))


def test_a_decryption_secrets_block_is_found():
    assert has_secrets(SECRETS) and not has_secrets(PLAIN)
    assert not has_secrets(os.path.join(ROOT, "captures", "outlook-session.pcapng"))


@tshark
def test_embedded_secrets_decrypt_without_a_flag():
    records = [json.loads(line) for line in mapiwire("dissect", SECRETS, "--format", "ndjson").stdout.splitlines()]
    assert len(records) == 11 and all(r["errors"] == [] for r in records)
    assert records[5]["request"]["RopBuffer"]["RopsList"][0]["RopName"] == "RopLogon"


@pytest.mark.parametrize("command", ["dissect", "sessions", "stats"])
def test_undecrypted_tls_is_named_with_its_server_and_bytes(command):
    out = mapiwire(command, PLAIN)
    assert out.returncode == 0
    assert "TLS not decrypted: 127.0.0.1:34363 (24,222 bytes); give the key log with --keylog" in out.stderr


def test_tls_flag_without_secrets_says_so():
    out = mapiwire("dissect", PLAIN, "--tls")
    assert out.returncode == 2 and "carries no TLS secrets (no Decryption Secrets Block)" in out.stderr
