"""`dissect --format json` against docs/json.md (issue 8 point 13): the record table of the page
is parsed here, and its rules are checked on every capture's decode."""

import glob
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "json.md")
EXPECTED = sorted(glob.glob(os.path.join(ROOT, "captures", "*.json")))
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
TYPES = {"number": (int, float), "string": str, "time": str, "object": dict, "list": list}
OPTIONAL = {"frames": dict, "hex": dict}


def record_table() -> list[tuple[str, str]]:
    """(field, type) rows of the record table of docs/json.md, in order."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    table = text.split("## The record", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \|", table, re.M)
    assert len(rows) >= 15
    return rows


def check_record(record: dict, where: str) -> None:
    rows = record_table()
    assert list(record)[:len(rows)] == [name for name, _ in rows], where
    for name, kind in rows:
        value = record[name]
        assert value is None or isinstance(value, TYPES[kind]), f"{where}.{name}: {value!r} is not a {kind}"
        if kind == "time" and value is not None:
            assert ISO.match(value), f"{where}.{name}: {value!r}"
    for name in list(record)[len(rows):]:
        assert isinstance(record[name], OPTIONAL[name]), f"{where}: unexpected field {name}"
    for side, span in (record.get("frames") or {}).items():
        assert side in ("request", "response") and len(span) == 2 and 1 <= span[0] <= span[1]
    for error in record["errors"]:
        assert set(error) <= {"where", "error", "offset"} and isinstance(error["error"], str), where
        assert isinstance(error.get("offset", 0), int)
    for side in ("request", "response"):
        if record[side] is not None:
            check_body(record[side], f"{where}.{side}")


def check_body(value, where: str) -> None:
    """The rules of "Decoded bodies", everywhere in a body."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_body(item, f"{where}[{i}]")
        return
    if not isinstance(value, dict):
        assert value is not None, f"{where}: null"  # absent fields are absent
        return
    assert not ("PropertyType" in value and "PropertyId" in value), f"{where}: a tag not in the contract shape"
    if "PropertyTag" in value:
        assert isinstance(value["PropertyTag"], int) and "PropertyId" not in value, where
        if "PropertyTypeName" in value:
            assert value["PropertyTypeName"].startswith("Ptyp"), where
    if "GlobalCounter" in value:
        assert isinstance(value["GlobalCounter"], int) and 0 <= value["GlobalCounter"] < 1 << 48, where
    if "RopId" in value:  # an unknown RopId has no name, and stays Undecoded
        assert isinstance(value["RopId"], int) and (isinstance(value.get("RopName"), str) or "Undecoded" in value), where
    for key in ("InputObject", "OutputObject", "NotificationObject"):
        if key in value:
            assert isinstance(value[key]["Kind"], str), f"{where}.{key}"
    if isinstance(value.get("LogonTime"), str):
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", value["LogonTime"]), where
    for key, item in value.items():
        if key.endswith("Name") and key[:-4] in value and key not in ("RopName", "PropertyName"):
            assert isinstance(value[key[:-4]], int) and isinstance(item, str), f"{where}.{key}"
        check_body(item, f"{where}.{key}")


@pytest.mark.parametrize("expected", EXPECTED, ids=os.path.basename)
def test_expected_decodes_keep_the_contract(expected):
    with open(expected, encoding="utf-8") as f:
        records = json.load(f)
    for record in records:
        check_record(record, f"{os.path.basename(expected)}#{record['index']}")


def test_dissect_json_keeps_the_contract():
    out = subprocess.run([sys.executable, "-m", "mapiwire.cli", "dissect", os.path.join(ROOT, "captures", "outlook-session.pcapng"),
                          "--format", "json", "--hex"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, MAPIWIRE_NO_PROGRESS="1")).stdout
    records = json.loads(out)
    assert len(records) == 36
    for record in records:
        check_record(record, f"#{record['index']}")
    assert all("hex" in r and "frames" in r for r in records)


def test_the_checker_refuses_what_the_contract_forbids():
    with pytest.raises(AssertionError):
        check_body({"ServerCount": None}, "null")
    with pytest.raises(AssertionError):
        check_body({"PropertyTags": [{"PropertyType": 31, "PropertyId": 55}]}, "old tag shape")
    with pytest.raises(AssertionError):
        check_body({"FolderId": {"ReplicaId": 1, "GlobalCounter": "00000000001d"}}, "counter as hex")
