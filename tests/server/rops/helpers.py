"""Drives a MailboxSession the way the server does, through bytes both ways.

The request ROPs are built with the definitions and parsed back (as the server receives them);
the session's response is built with the request ROPs it annotated (as the server sends it)
and parsed back by an independent DecodingContext (as a client's decoder reads it).
"""

from __future__ import annotations

from mapiwire.dissect.context import DecodingContext
from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopInputBuffer, RopOutputBuffer
from mapiwire.server.rops import MailboxSession
from mapiwire.server.store import Store

NO_HANDLE = 0xFFFFFFFF
INBOX_INDEX = 4  # MS-OXCSTOR 2.2.1.1.3: the fifth FolderId of a private logon


def tags(*values: int) -> list[dict]:
    return [{"PropertyType": v & 0xFFFF, "PropertyId": v >> 16} for v in values]


class Driver:
    """One session of `user` on `store`, with the client-side decoding state beside it.
    `Driver.recorder`, when a list, collects every request RopsList built (a fuzz corpus)."""

    recorder: list | None = None

    def __init__(self, store: Store | None = None, user: str = "alice"):
        self.store = store or Store.load()
        self.session = MailboxSession(self.store, self.store.user(user))
        self.user = self.store.user(user)
        self.decoding = DecodingContext(user)
        self.last_bytes = b""

    def execute(self, rops: list, handles: list, max_rop_out: int = 0x10000):
        data = build(RopInputBuffer, {"RopsList": rops, "ServerObjectHandleTable": handles},
                     logons=self.decoding.logon_flags)
        request = parse(RopInputBuffer, data, logons=self.decoding.logon_flags)
        if Driver.recorder is not None:
            Driver.recorder.append(data[2:2 + int(request.RopSize) - 2])
        request_handles = list(request.ServerObjectHandleTable)
        server_rops = list(parse(RopInputBuffer, data, logons=self.decoding.logon_flags).RopsList)
        responses, out_handles = self.session.execute(server_rops, list(request_handles), max_rop_out)
        body = build(RopOutputBuffer, {"RopsList": responses, "ServerObjectHandleTable": out_handles},
                     request_rops=server_rops, notify_state=self.session.notify_state)
        assert len(body) + 8 <= max_rop_out
        self.last_bytes = body
        client_rops = list(request.RopsList)
        self.decoding.annotate(client_rops, request_handles)
        errors: list = []
        parsed = parse(RopOutputBuffer, body, request_rops=client_rops, notify_state=self.decoding.notify_state,
                       errors=errors)
        assert errors == [], errors
        assert build(RopOutputBuffer, parsed, request_rops=client_rops, notify_state=self.decoding.notify_state) == body
        self.decoding.learn(client_rops, parsed.RopsList, request_handles, parsed.ServerObjectHandleTable)
        return list(parsed.RopsList), list(parsed.ServerObjectHandleTable)

    def logon(self) -> tuple[int, list]:
        """RopLogon; returns (logon handle, the 13 folder ids)."""
        rops, handles = self.execute([{"RopId": 0xFE, "LogonId": 0, "OutputHandleIndex": 0, "LogonFlags": 0x01,
                                       "OpenFlags": 0x0100040C, "StoreState": 0, "Essdn": self.user.dn}],
                                     [NO_HANDLE])
        assert rops[0].ReturnValue == 0
        return handles[0], list(rops[0].FolderIds)

    def open_folder(self, logon: int, folder_id) -> int:
        rops, handles = self.execute([{"RopId": 0x02, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                                       "FolderId": folder_id, "OpenModeFlags": 0}], [logon, NO_HANDLE])
        assert rops[0].ReturnValue == 0, rops[0]
        return handles[1]

    def contents(self, folder: int, columns: list[int], flags: int = 0) -> tuple[int, int]:
        """RopGetContentsTable + RopSetColumns; returns (table handle, RowCount)."""
        rops, handles = self.execute([
            {"RopId": 0x05, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "TableFlags": flags},
            {"RopId": 0x12, "LogonId": 0, "InputHandleIndex": 1, "SetColumnsFlags": 0,
             "PropertyTags": tags(*columns)}], [folder, NO_HANDLE])
        assert [r.ReturnValue for r in rops] == [0, 0]
        return handles[1], rops[0].RowCount

    def query(self, table: int, count: int = 100, forward: int = 1, flags: int = 0):
        rops, _ = self.execute([{"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 0, "QueryRowsFlags": flags,
                                 "ForwardRead": forward, "RowCount": count}], [table])
        return rops[0]

    def values(self, row) -> list:
        return [v.PropertyValue for v in row.ValueArray]
