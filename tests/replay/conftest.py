"""What the live replay tests share: servers on loopback, a capture recorded from one, replays."""

from __future__ import annotations

import json
import pathlib

import pytest

from mapiwire.client.auth import parse_auth
from mapiwire.client.mailbox import Rop
from mapiwire.client.profiles import OutlookClient, object_id, startup, tags
from mapiwire.client.recorder import record
from mapiwire.replay.plan import load_plans
from mapiwire.replay.report import replay_report
from mapiwire.replay.scenarios import Scenario, parse_scenario
from mapiwire.replay.scheduler import Replay, ReplayOptions, Timing
from mapiwire.server import running_server

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "captures" / "outlook-session.pcapng")
FIXTURE = ROOT / "mapiwire" / "server" / "data" / "fixture.json"
# short waits; the session timeout stays long where a test does not expect expiry (a loaded
# machine can stall a thread for a second)
FAST = dict(session_timeout=30, pending_period=0.2, notification_wait_limit=0.3)
BOB = "bob@mapiwire.test=/o=mapiwire/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=bob"


def find_step(plan, request_type: str, rop: str | None = None):
    """The first step of `plan` of that type (and with that ROP): record numbers change when the
    sample captures are regenerated, what a step does does not."""
    return next(s for s in plan.steps if s.request_type == request_type
                and (rop is None or any(r.get("RopName") == rop for r in s.request_rops)))


def sample_number(request_type: str, rop: str | None = None, session: str = "ctx-7f3a9c") -> int:
    plan = next(p for p in load_plans(SAMPLE) if p.key == session)
    return find_step(plan, request_type, rop).number


def browse_flow(client: OutlookClient) -> None:
    """Startup, the Inbox's contents, and a folder opened by the id a hierarchy row gave."""
    startup(client)
    reviews = next(r for r in client.hierarchy() if r[1] == "Reviews")
    client.contents("inbox")
    client.mailbox.execute([
        Rop("RopOpenFolder", {"FolderId": object_id(reviews[0]), "OpenModeFlags": 0}, on="logon", out="reviews"),
        Rop("RopGetPropertiesSpecific", {"PropertySizeLimit": 0, "WantUnicode": 1,
                                         "PropertyTags": tags(0x3001001F, 0x36020003)}, on="reviews")])
    client.mailbox.execute([Rop("RopRelease", on="reviews")])
    client.close()


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> str:
    """A capture recorded from `mapiwire serve` (Basic auth) by the client package."""
    path = tmp_path_factory.mktemp("recorded") / "browse.pcapng"
    with running_server(port=0, auth="basic", **FAST) as srv:
        client = OutlookClient(srv.url, parse_auth("basic:bob:bob-pw"))
        browse_flow(client)
    record(client.exchanges, str(path))
    return str(path)


@pytest.fixture(scope="session")
def other_fixture(tmp_path_factory) -> str:
    """The packaged fixture with ten more folders and five more messages created first: every
    later folder and message id differs from the recorded server's."""
    data = json.loads(FIXTURE.read_text())
    bob = data["mailboxes"]["bob"]
    bob["folders"][:0] = [{"path": f"Archive/{year}"} for year in range(2015, 2025)]
    bob["messages"][:0] = [dict(bob["messages"][0], folder="Archive/2015", subject=f"old {i}") for i in range(5)]
    path = tmp_path_factory.mktemp("fixture") / "other.json"
    path.write_text(json.dumps(data))
    return str(path)


def run_replay(capture: str, url: str, *scenarios, **options):
    """Replay `capture` against `url` with scenarios (specs or Scenario objects); returns (Replay, report)."""
    parsed = [s if isinstance(s, Scenario) else parse_scenario(s) for s in scenarios]
    options.setdefault("timing", Timing.parse("fast"))
    options.setdefault("notify_grace", 0.3)
    options.setdefault("timeout", 5.0)
    replay = Replay(load_plans(capture), ReplayOptions(target=url, scenarios=parsed, **options))
    replay.run()
    return replay, replay_report(replay, capture, parsed, compare_content=options.get("compare_content", False))


def plan_entries(replay, endpoint: str = "emsmdb") -> list[dict]:
    run = next(r for r in replay.runs if r.plan.endpoint == endpoint and any(
        s.request_type in ("Connect", "Bind") and s.response_code == 0 for s in r.plan.steps))
    return [e for e in run.entries if e["kind"] == "plan"]


@pytest.fixture
def chromium(tmp_path):
    """Load an HTML file in headless Chromium: returns (DOM after scripts, browser log)."""
    import shutil
    import subprocess

    binary = shutil.which("chromium") or "/usr/bin/chromium"
    if not pathlib.Path(binary).exists():
        pytest.skip("chromium is not installed (.ci/run installs it)")

    def load(page):
        profile = tmp_path / "chromium-profile"
        result = subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--dump-dom", pathlib.Path(page).as_uri()],
            capture_output=True, text=True, timeout=60)
        return result.stdout, result.stderr

    return load
