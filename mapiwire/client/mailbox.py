"""The mailbox endpoint as a client uses it: Connect, Execute with named Server objects,
NotificationWait, PING, Disconnect, and the spec's recovery.

Execute: the ROP requests are built with the ROP definitions (MS-OXCROPS 2.2.1: RopsList and
ServerObjectHandleTable, inside RPC_HEADER_EXT with the client's compression and XOR choice,
MS-OXCRPC 3.1.4.1.1); objects are named by the caller and their handle-table slots assigned here;
responses are parsed with the same definitions and the dissector's DecodingContext (so
RopQueryRows is typed by the table's RopSetColumns).

Recovery (MS-OXCMAPIHTTP 3.1.5.7, 3.1.7.2): when a request answers X-ResponseCode 10 (or 6) or its
response is lost, the client sends Connect with all existing cookies (a new context), logs on
again, reopens the objects it still holds (folders, tables with their columns and sort,
messages, notification subscriptions) and sends the request again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..dissect.context import DecodingContext
from ..dissect.decode import rops_of
from ..dissect.defs.ropbuffer import UNSOLICITED
from ..dissect.defs.rops import ROP_BY_ID
from ..errors import MapiwireError
from .session import MapiHttpError, MapiSession, ResponseLost

NO_HANDLE = 0xFFFFFFFF
MAX_ROP_OUT = 0x10008  # MS-OXCMAPIHTTP 2.2.4.2.1 MaxRopOut as Outlook sends it
ROP_ID = {rop.name: rop.rop_id for rop in ROP_BY_ID.values()}
# ROPs that open an object the client can open again after a new session context
REOPENABLE = {"RopLogon", "RopOpenFolder", "RopGetHierarchyTable", "RopGetContentsTable", "RopOpenMessage",
              "RopRegisterNotification", "RopGetAttachmentTable", "RopOpenAttachment"}
# ROPs that shape a table and must follow it when it is reopened (MS-OXCTABL 3.1.5)
TABLE_SHAPING = {"RopSetColumns", "RopSortTable", "RopRestrict"}
RESPONSE_HANDLE_ROPS = {"RopSaveChangesMessage", "RopSaveChangesAttachment", "RopSetMessageReadFlag"}


class RopError(MapiwireError):
    """A ROP answered a ReturnValue it was not expected to (MS-OXCDATA 2.4 error codes)."""

    def __init__(self, name: str, value: int, response: dict):
        super().__init__(f"{name} returned {value:#010x}")
        self.name, self.value, self.response = name, value, response


@dataclass
class Rop:
    """One ROP request: `name` (RopOpenFolder ...), its fields (LogonId defaults to 0), the named
    object it acts on (`on`), the name its new object gets (`out`), and the ReturnValues that
    are fine (`expect`)."""

    name: str
    fields: dict = field(default_factory=dict)
    on: str | None = None
    out: str | None = None
    expect: tuple = (0,)


@dataclass
class ExecuteResult:
    """The paired response ROPs (None for RopRelease), unsolicited ones (RopNotify ...), the
    Exchange, and the parsed body."""

    responses: list
    notifications: list
    exchange: object
    body: object

    def __getitem__(self, index):
        return self.responses[index]


class Mailbox:
    """One mailbox session context: `connect()`, `logon()`, `execute([Rop, ...])`, `wait()`, `ping()`,
    `disconnect()`. `compress` / `obfuscate` choose the RPC_HEADER_EXT flags of requests;
    `recover` turns on the reconnect rule."""

    def __init__(self, session: MapiSession, user_dn: str, *, compress: bool = True, obfuscate: bool = True,
                 recover: bool = True):
        self.session = session
        self.user_dn = user_dn
        self.header_flags = (0x1 if compress else 0) | (0x2 if obfuscate else 0)
        self.recover = recover
        self.objects: dict[str, int] = {}  # name -> server object handle
        self.recipes: dict[str, list[Rop]] = {}  # name -> the ROPs that open (and shape) it again
        self.logon_flags: dict[int, int] = {}
        self.decoding = DecodingContext("client")
        self.folders: list = []  # RopLogon's 13 special folder ids (MS-OXCSTOR 2.2.1.1.3)
        self.connect_response = None
        self.reconnects = 0
        self.results: list[ExecuteResult] = []

    # -- session ----------------------------------------------------------------------------

    def connect(self, reconnect: bool = False):
        """MS-OXCMAPIHTTP 2.2.4.1 Connect; with `reconnect`, the old cookies go along so the
        server can clean up the old context (3.1.5.7) and the X-ClientInfo counter stays."""
        self.session.new_context(reconnect=reconnect)
        self.connect_response = self.session.call("Connect", {
            "UserDn": self.user_dn, "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033, "LcidString": 1033,
            "AuxiliaryBuffer": {"Blocks": []}})
        return self.connect_response

    def disconnect(self):
        """2.2.4.3 Disconnect: the context ends."""
        return self.session.call("Disconnect", {"AuxiliaryBuffer": {"Blocks": []}})

    def ping(self, **options):
        """2.2.6 PING: keeps the context alive (3.1.5.3)."""
        return self.session.call("PING", None, **options)

    def wait(self, **options) -> int:
        """2.2.4.4 NotificationWait: returns EventPending (1 when an event is waiting). Pass a
        separate `connection=` to park it beside Executes, as Outlook does."""
        value = self.session.call("NotificationWait", {"Flags": 0, "AuxiliaryBuffer": {"Blocks": []}}, **options)
        return int(value.EventPending)

    def logon(self, essdn: str | None = None) -> ExecuteResult:
        """RopLogon to the private mailbox (MS-OXCROPS 2.2.3.1) and RopGetReceiveFolder for IPM.Note."""
        result = self.execute([
            Rop("RopLogon", {"LogonFlags": 0x01, "OpenFlags": 0x0100040C, "StoreState": 0,
                             "Essdn": essdn or self.user_dn}, out="logon"),
            Rop("RopGetReceiveFolder", {"MessageClass": "IPM.Note"}, on="logon")])
        self.folders = list(result[0]["FolderIds"])
        return result

    # -- Execute ----------------------------------------------------------------------------

    def execute(self, rops: list[Rop], **request_options) -> ExecuteResult:
        """One Execute; on a lost context, reconnect, reopen, and send it again (once)."""
        try:
            return self._execute(rops, **request_options)
        except MapiHttpError as exc:
            if not self.recover or not (exc.context_lost or isinstance(exc, ResponseLost)):
                raise
            self.recover_context()
            retry = {k: v for k, v in request_options.items() if k not in ("cut_after", "cut_at_meta")}
            return self._execute(rops, **retry)

    def recover_context(self) -> None:
        """MS-OXCMAPIHTTP 3.1.5.7 / 3.1.7.2: Connect with the old cookies, RopLogon, reopen."""
        self.reconnects += 1
        self.connect(reconnect=True)
        recipes, self.recipes, self.objects = self.recipes, {}, {}
        self.decoding = DecodingContext("client")
        steps = [rop for name, recipe in recipes.items() for rop in recipe]
        if steps:
            self._execute(steps)

    def _execute(self, rops: list[Rop], **request_options) -> ExecuteResult:
        request_rops, handles = self._request(rops)
        value = {"Flags": 0, "RopBuffer": {"RPC_HEADER_EXT": [{"Version": 0, "Flags": self.header_flags | 0x4}],
                                           "RopsList": request_rops, "ServerObjectHandleTable": handles},
                 "MaxRopOut": MAX_ROP_OUT, "AuxiliaryBuffer": {"Blocks": []}}
        params = {"logons": dict(self.logon_flags), "request_rops": request_rops,
                  "notify_state": self.decoding.notify_state}
        body = self.session.call("Execute", value, params=params, **request_options)
        response_rops, response_handles = rops_of(body.RopBuffer)
        self.decoding.learn(request_rops, response_rops, handles, response_handles)
        paired, unsolicited = self._pair(rops, response_rops)
        for rop, response in zip(rops, paired):
            self._after(rop, response, response_handles)
        result = ExecuteResult(paired, unsolicited, self.session.exchanges[-1], body)
        self.results.append(result)
        for rop, response in zip(rops, paired):
            if response is not None and int(response.get("ReturnValue", 0)) not in rop.expect:
                raise RopError(rop.name, int(response["ReturnValue"]), response)
        return result

    def _request(self, rops: list[Rop]) -> tuple[list, list]:
        """The request ROPs with their handle indexes, and the ServerObjectHandleTable."""
        handles: list[int] = []
        slots: dict[str, int] = {}

        def slot(name: str) -> int:
            if name not in slots:
                if name not in self.objects:
                    raise MapiwireError(f"no open object named {name!r}")
                slots[name] = len(handles)
                handles.append(self.objects[name])
            return slots[name]

        out = []
        for rop in rops:
            value = {"RopId": ROP_ID[rop.name], "LogonId": 0, **rop.fields}
            if rop.on is not None:
                value["InputHandleIndex"] = slot(rop.on)
                if rop.name in RESPONSE_HANDLE_ROPS:
                    value["ResponseHandleIndex"] = value["InputHandleIndex"]
            if rop.out is not None:
                slots[rop.out] = value["OutputHandleIndex"] = len(handles)
                handles.append(NO_HANDLE)
            if rop.name == "RopLogon":
                self.logon_flags[value["LogonId"]] = value["LogonFlags"]
            out.append(value)
        self.decoding.annotate(out, handles)
        return out, handles

    @staticmethod
    def _pair(rops: list[Rop], response_rops: list) -> tuple[list, list]:
        """Responses in request order (RopRelease has none, MS-OXCROPS 2.2.15.3); unsolicited
        ones (RopNotify, RopPending ...) apart. RopBufferTooSmall fails the call (2.2.15.1)."""
        unsolicited = [r for r in response_rops if r.get("RopId") in UNSOLICITED]
        if any(r.get("RopId") == 0xFF for r in unsolicited):
            raise MapiwireError("RopBufferTooSmall: MaxRopOut too small for the responses")
        queue = [r for r in response_rops if r.get("RopId") not in UNSOLICITED]
        paired = []
        for rop in rops:
            if ROP_BY_ID[ROP_ID[rop.name]].response is None:
                paired.append(None)
                continue
            if not queue or queue[0].get("RopId") != ROP_ID[rop.name]:
                raise MapiwireError(f"no response for {rop.name}")
            paired.append(queue.pop(0))
        return paired, unsolicited

    def _after(self, rop: Rop, response, response_handles: list) -> None:
        """Keep new objects' handles and the recipes to reopen them; forget released ones."""
        if rop.name == "RopRelease":
            self.objects.pop(rop.on, None)
            self.recipes.pop(rop.on, None)
            return
        ok = response is not None and int(response.get("ReturnValue", 0)) == 0
        if rop.out is not None and ok:
            slot = response.get("OutputHandleIndex")
            if slot is not None and slot < len(response_handles):
                self.objects[rop.out] = response_handles[slot]
                if rop.name in REOPENABLE:
                    self.recipes[rop.out] = [rop]
        elif rop.name in TABLE_SHAPING and ok and rop.on in self.recipes:
            self.recipes[rop.on].append(rop)
