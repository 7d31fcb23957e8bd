"""The ROP registry against the spec's Table of RopIds (MS-OXCROPS 2.2.2) and the docs table."""

import subprocess
import sys
from pathlib import Path

from mapiwire.dissect.defs import rops
from mapiwire.dissect.defs.rops.ropids import ROP_IDS

ROOT = Path(__file__).resolve().parents[4]


def test_every_ropid_of_the_table_is_defined_with_its_buffers():
    assert set(rops.ROP_BY_ID) == set(ROP_IDS) and not rops.NOT_IMPLEMENTED
    assert sum(r.request is not None for r in rops.ROP_BY_ID.values()) == 128
    assert sum(r.response is not None for r in rops.ROP_BY_ID.values()) == 131


def test_every_response_starts_with_ropid_a_handle_index_and_return_value():
    for rop in rops.ROP_BY_ID.values():
        if rop.failure is not None:
            names = [sc.name for sc in rop.failure.subcons]
            assert names[0] == "RopId" and names[2] == "ReturnValue", rop.name
            assert names[1] in ("InputHandleIndex", "OutputHandleIndex", "ResponseHandleIndex", "SourceHandleIndex"), rop.name


def test_generated_modules_and_docs_are_up_to_date():
    for tool in ("gen_ropids.py", "gen_rop_table.py", "gen_errorcodes.py"):
        result = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--check"], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "132 with vectors" in (ROOT / "docs" / "rops.md").read_text()
