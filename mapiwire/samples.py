"""Synthesized MAPI/HTTP sessions, built through the protocol definitions.

Until the local server (the `server/` package) exists, the sample captures in `captures/`, the
tests and `bench/` use these: an Outlook-like mailbox session and an address book session, with
every request type, the chunked PROCESSING/PENDING/DONE framing, compressed and obfuscated
buffers, auxiliary blocks, a network change, and failures. Every body is made by `build()`
from the same definitions the decoder parses with.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field

from .dissect.context import DecodingContext
from .dissect.defs.addressbook import large_tag_array, stat
from .dissect.defs.core import build
from .dissect.defs.mapihttp import BODIES
from .dissect.exchange import Exchange, HttpMessage

CLIENT_APP = "Outlook/16.0.17928.20114"
SERVER_APP = "Exchange/15.02.1544.009"
T0 = 1_764_000_000.0  # 2025-11-24T16:00:00Z

Last = {"Version": 0, "Flags": 0x4}
XorLast = {"Version": 0, "Flags": 0x6}
CompressedXorLast = {"Version": 0, "Flags": 0x7}


def ext(payload: dict, header: dict = Last) -> dict:
    """An extended buffer value: one RPC_HEADER_EXT (flags as given) + payload fields."""
    return {"RPC_HEADER_EXT": [dict(header)], **payload}


def aux(*blocks) -> dict:
    """An auxiliary buffer value with the given (version, type, name, fields) blocks."""
    if not blocks:
        return {"Blocks": []}
    return ext({"Blocks": [{"AUX_HEADER": {"Version": v, "Type": t}, name: fields} for v, t, name, fields in blocks]})


@dataclass
class Session:
    """Builds the exchanges of one client session: ids, cookies, times, connections."""

    endpoint: str  # "emsmdb" or "nspi"
    client: str = "10.0.0.5:51234"
    server: str = "10.0.0.1:80"
    connection: str = "c1"
    guid: str = "{E2EA6C1C-E61B-49E9-9CFB-38184F907552}"
    client_info: str = "{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1"
    mailbox: str = "bob@contoso.com"
    clock: float = T0
    counter: int = 0
    cookies: dict = field(default_factory=dict)
    exchanges: list = field(default_factory=list)

    def add(self, request_type: str, request_body: dict | None, response_body: dict | None, *,
            pending: int = 0, elapsed_ms: int = 12, set_cookies: dict | None = None,
            response_code: int = 0, raw_response: bytes | None = None, raw_request: bytes | None = None,
            chunked: bool = True, request_params: dict | None = None, response_params: dict | None = None) -> Exchange:
        """One request/response pair, bodies given as definition values (built here)."""
        body_def = BODIES[request_type]
        self.counter += 1
        self.clock += 0.5
        headers = [("Host", "mail.contoso.com"), ("Content-Type", "application/mapi-http"),
                   ("X-RequestType", request_type), ("X-ClientInfo", self.client_info),
                   ("X-RequestId", f"{self.guid}:{self.counter}"), ("X-ClientApplication", CLIENT_APP)]
        if self.cookies:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        body = raw_request if raw_request is not None else (
            build(body_def.request, request_body, **(request_params or {})) if request_body is not None else b"")
        request = HttpMessage(headers=headers + [("Content-Length", str(len(body)))], body=body, method="POST",
                              target=f"/mapi/{self.endpoint}/?MailboxId={self.mailbox}", time=self.clock)
        if raw_response is not None:
            inner = raw_response
        else:
            payload = b""
            if response_body is not None:
                status = response_body.get("StatusCode", 0)
                payload = build(body_def.success if status == 0 else body_def.failure, response_body,
                                **(response_params or {}))
            start = email.utils.formatdate(self.clock, usegmt=True)
            inner = (b"PROCESSING\r\n" + b"PENDING\r\n" * pending + b"DONE\r\n"
                     + f"X-ResponseCode: {response_code}\r\nX-ElapsedTime: {elapsed_ms}\r\n"
                       f"X-StartTime: {start}\r\n\r\n".encode() + payload)
        response_headers = [("Content-Type", "application/mapi-http"), ("X-RequestType", request_type),
                            ("X-ResponseCode", "0"), ("X-RequestId", f"{self.guid}:{self.counter}"),
                            ("X-ClientInfo", self.client_info), ("X-ServerApplication", SERVER_APP),
                            ("X-PendingPeriod", "15000"), ("X-ExpirationInfo", "900000")]
        for name, value in (set_cookies or {}).items():
            response_headers.append(("Set-Cookie", f"{name}={value}; path=/mapi/{self.endpoint}; HttpOnly"))
            self.cookies[name] = value
        if chunked:
            response_headers.append(("Transfer-Encoding", "chunked"))
        else:
            response_headers.append(("Content-Length", str(len(inner))))
        self.clock += elapsed_ms / 1000 + 0.05 * pending
        response = HttpMessage(headers=response_headers, body=inner, status=200, reason="OK", time=self.clock,
                               end_time=self.clock)
        if chunked:  # each meta-tag line its own chunk, as MS-OXCMAPIHTTP 4.2 shows
            sizes = [len(b"PROCESSING\r\n")] + [len(b"PENDING\r\n")] * pending
            response.chunks = sizes + [len(inner) - sum(sizes)]
        exchange = Exchange(request=request, response=response, connection=self.connection,
                            client=self.client, server=self.server)
        self.exchanges.append(exchange)
        return exchange

    def move(self, client: str, connection: str) -> None:
        """A network change: the client goes on from a new address on a new connection."""
        self.client, self.connection = client, connection
        self.clock += 30


CLIENT_AUX = aux(
    (1, 0x01, "AUX_PERF_REQUESTID", {"SessionID": 1, "RequestID": 1}),
    (1, 0x02, "AUX_PERF_CLIENTINFO", {
        "AdapterSpeed": 1_000_000, "ClientID": 1, "ClientIPSize": 0, "ClientIPMaskSize": 0, "MacAddressSize": 0,
        "ClientMode": 2, "Reserved": 0, "MachineName": "BOB-LAPTOP", "UserName": "bob",
        "ClientIP": bytes([10, 0, 0, 5]), "ClientIPMask": bytes([255, 255, 255, 0]), "AdapterName": "Wi-Fi",
        "MacAddress": bytes.fromhex("001122334455")}),
    (1, 0x4A, "AUX_CLIENT_CONNECTION_INFO", {
        "ConnectionGUID": "{0B7A5E9F-2C71-4E6B-9D3A-6F1E2A4B5C6D}", "Reserved": 0, "ConnectionAttempts": 1,
        "ConnectionFlags": 1, "ConnectionContextInfo": "Outlook connection"}),
)

SERVER_AUX = aux(
    (1, 0x0A, "AUX_CLIENT_CONTROL", {"EnableFlags": 0x7, "ExpiryTime": 60000}),
    (1, 0x16, "AUX_OSVERSIONINFO", {"OSVersionInfoSize": 156, "MajorVersion": 10, "MinorVersion": 0,
                                    "BuildNumber": 20348, "Reserved1": bytes(132), "ServicePackMajor": 0,
                                    "ServicePackMinor": 0, "Reserved2": 0}),
    (1, 0x17, "AUX_EXORGINFO", {"OrgFlags": 1}),
    (1, 0x46, "AUX_SERVER_CAPABILITIES", {"ServerCapabilityFlags": 0x3}),
    (1, 0x4B, "AUX_SERVER_SESSION_INFO", {"ServerSessionContextInfo": "EXCH01.contoso.com"}),
)


def rop_request(rops: list, handles: list, header: dict = Last) -> dict:
    return ext({"RopsList": rops, "ServerObjectHandleTable": handles}, header)


def mailbox_session(rop_flow: list | None = None, *, pending: int = 1) -> list[Exchange]:
    """Connect, Execute (the given ROP flow: a list of (request ROPs, request handles, response
    ROPs, response handles, header); a step with only response ROPs is preceded by a
    NotificationWait with EventPending), NotificationWait, PING, a network change, Disconnect."""
    s = Session("emsmdb")
    s.add("Connect",
          {"UserDn": "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=bob",
           "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033, "LcidString": 1033, "AuxiliaryBuffer": CLIENT_AUX},
          {"StatusCode": 0, "ErrorCode": 0, "PollsMax": 60000, "RetryCount": 6, "RetryDelay": 10000,
           "DnPrefix": "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)", "DisplayName": "Bob Smith",
           "AuxiliaryBuffer": SERVER_AUX},
          set_cookies={"MapiContext": "ctx-7f3a9c", "MapiSequence": "seq-1"})
    state = DecodingContext("samples")  # the same state the decoder keeps, for building responses
    for i, (req_rops, req_handles, resp_rops, resp_handles, header) in enumerate(rop_flow or []):
        if not req_rops and resp_rops:  # events pending: NotificationWait says so, an Execute fetches them
            s.add("NotificationWait", {"Flags": 0, "AuxiliaryBuffer": aux()},
                  {"StatusCode": 0, "ErrorCode": 0, "EventPending": 1, "AuxiliaryBuffer": aux()}, pending=2)
        state.annotate(req_rops, req_handles)
        s.add("Execute",
              {"Flags": 0, "RopBuffer": rop_request(req_rops, req_handles, header), "MaxRopOut": 0x40000,
               "AuxiliaryBuffer": aux((1, 0x01, "AUX_PERF_REQUESTID", {"SessionID": 1, "RequestID": i + 2}))},
              {"StatusCode": 0, "ErrorCode": 0, "Flags": 0,
               "RopBuffer": rop_request(resp_rops, resp_handles, header), "AuxiliaryBuffer": aux()},
              pending=pending if i == 1 else 0, set_cookies={"MapiSequence": f"seq-{i + 2}"},
              request_params={"logons": state.logon_flags},
              response_params={"request_rops": req_rops, "notify_state": state.notify_state})
        state.learn(req_rops, resp_rops, req_handles, resp_handles)
    s.add("NotificationWait", {"Flags": 0, "AuxiliaryBuffer": aux()},
          {"StatusCode": 0, "ErrorCode": 0, "EventPending": 0, "AuxiliaryBuffer": aux()}, pending=2)
    s.add("PING", None, None)
    s.move("192.168.1.23:60112", "c2")  # Wi-Fi to cellular: same context, new address
    s.add("PING", None, None)
    s.add("Disconnect", {"AuxiliaryBuffer": aux()}, {"StatusCode": 0, "ErrorCode": 0, "AuxiliaryBuffer": aux()})
    return s.exchanges


def failures() -> list[Exchange]:
    """Requests the server refuses: an expired context (X-ResponseCode 10, text/html body); after
    2 h 15 min idle (longer than the 15 min of X-ExpirationInfo) the same refusal with an empty
    body, as Exchange sends it; a Connect whose body is a failure body (StatusCode != 0); then the
    client's reconnect, a new context with the same X-RequestId GUID."""
    s = Session("emsmdb", client="10.0.0.7:50100", connection="c9", guid="{11111111-2222-3333-4444-555555555555}",
                client_info="{5A5A5A5A-0000-4000-8000-000000000007}:1")
    s.cookies = {"MapiContext": "expired-ctx", "MapiSequence": "seq-9"}
    execute = {"Flags": 0, "RopBuffer": rop_request([], []), "MaxRopOut": 0x40000, "AuxiliaryBuffer": aux()}
    _refused(s.add("Execute", execute, None, raw_response=b"<html><body>Context not found</body></html>",
                   chunked=False), 10)
    s.clock += 2 * 3600 + 15 * 60
    _refused(s.add("Execute", execute, None, raw_response=b"", chunked=False), 10)
    s.cookies = {}
    s.add("Connect", {"UserDn": "/o=Contoso/cn=nobody", "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033,
                      "LcidString": 1033, "AuxiliaryBuffer": aux()},
          {"StatusCode": 0x000003EB, "AuxiliaryBuffer": aux()})
    s.add("Connect", {"UserDn": "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=carol",
                      "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033, "LcidString": 1033, "AuxiliaryBuffer": aux()},
          {"StatusCode": 0, "ErrorCode": 0, "PollsMax": 60000, "RetryCount": 6, "RetryDelay": 10000,
           "DnPrefix": "/o=Contoso", "DisplayName": "Carol White", "AuxiliaryBuffer": aux()},
          set_cookies={"MapiContext": "ctx-reconnected", "MapiSequence": "seq-1"})
    return s.exchanges


def _refused(exchange: Exchange, code: int) -> None:
    """The response as servers refuse a request (MS-OXCMAPIHTTP 3.2.5.2): text/html, X-ResponseCode."""
    for i, (name, value) in enumerate(exchange.response.headers):
        if name == "X-ResponseCode":
            exchange.response.headers[i] = (name, str(code))
        if name == "Content-Type":
            exchange.response.headers[i] = (name, "text/html")


# An Outlook-like ROP flow -------------------------------------------------------------------

def fid(counter: int) -> dict:
    """A Folder ID / Message ID (MS-OXCDATA 2.2.1.1): ReplicaId 1 and a 6-byte GlobalCounter."""
    return {"ReplicaId": 1, "GlobalCounter": counter.to_bytes(6, "big")}


def mid(counter: int) -> int:
    """The same id as a PtypInteger64 property value (PidTagMid): the 8 bytes read as one integer."""
    return int.from_bytes((1).to_bytes(2, "little") + counter.to_bytes(6, "big"), "little")


def tags(*values: int) -> list[dict]:
    """PropertyTag structures to build (MS-OXCDATA 2.9), from 32-bit tags."""
    return large_tag_array(*values)["PropertyTags"]


def row(*values, flag: int = 0) -> dict:
    """A PropertyRow value (MS-OXCDATA 2.8.1): the values in column order."""
    return {"Flag": flag, "ValueArray": [{"PropertyValue": v} for v in values]}


PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"
PSETID_COMMON = "{00062008-0000-0000-C000-000000000046}"
INBOX = fid(0x1D)
CONTENTS_COLUMNS = tags(0x674A0014, 0x0037001F, 0x0E060040, 0x0E080003, 0x0E1B000B, 0x0C1A001F)
NO_HANDLE = 0xFFFFFFFF
LOGON, FOLDER, TABLE, NOTIFY = 0x00000101, 0x00000202, 0x00000303, 0x00000404


def outlook_flow(messages: int = 20) -> list[tuple]:
    """Execute steps as (request ROPs, request handles, response ROPs, response handles, header):
    logon, open the Inbox, its contents table with RopSetColumns, RopQueryRows in a LATER
    Execute (the columns come from the session state), properties and named properties, a
    notification subscription and the RopNotify that follows, then RopRelease."""
    logon_request = {"RopId": 0xFE, "LogonId": 0, "OutputHandleIndex": 0, "LogonFlags": 0x01,
                     "OpenFlags": 0x0100040C, "StoreState": 0,
                     "Essdn": "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=bob"}
    logon_response = {"RopId": 0xFE, "OutputHandleIndex": 0, "ReturnValue": 0, "LogonFlags": 0x01,
                      "FolderIds": [INBOX if i == 5 else fid(i) for i in range(1, 14)], "ResponseFlags": 0x07,
                      "MailboxGuid": "{C2B1E9D4-6A2B-4F3C-9E8D-7A6B5C4D3E2F}", "ReplId": 1,
                      "ReplGuid": "{A1B2C3D4-E5F6-4789-ABCD-EF0123456789}",
                      "LogonTime": {"Seconds": 0, "Minutes": 0, "Hour": 16, "DayOfWeek": 1, "Day": 24, "Month": 11,
                                    "Year": 2025},
                      "GwartTime": 133_000_000_000_000_000, "StoreState": 0}
    receive_request = {"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": "IPM.Note"}
    receive_response = {"RopId": 0x27, "InputHandleIndex": 0, "ReturnValue": 0, "FolderId": INBOX,
                        "ExplicitMessageClass": "IPM"}
    step1 = ([logon_request, receive_request], [NO_HANDLE], [logon_response, receive_response], [LOGON], XorLast)

    open_folder = {"RopId": 0x02, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "FolderId": INBOX,
                   "OpenModeFlags": 0}
    open_folder_response = {"RopId": 0x02, "OutputHandleIndex": 1, "ReturnValue": 0, "HasRules": 0, "IsGhosted": 0,
                            "CheapServerCount": None, "Servers": None}
    contents = {"RopId": 0x05, "LogonId": 0, "InputHandleIndex": 1, "OutputHandleIndex": 2, "TableFlags": 0}
    contents_response = {"RopId": 0x05, "OutputHandleIndex": 2, "ReturnValue": 0, "RowCount": messages}
    set_columns = {"RopId": 0x12, "LogonId": 0, "InputHandleIndex": 2, "SetColumnsFlags": 0,
                   "PropertyTags": CONTENTS_COLUMNS}
    set_columns_response = {"RopId": 0x12, "InputHandleIndex": 2, "ReturnValue": 0, "TableStatus": 0}
    step2 = ([open_folder, contents, set_columns], [LOGON, NO_HANDLE, NO_HANDLE],
             [open_folder_response, contents_response, set_columns_response], [LOGON, FOLDER, TABLE],
             CompressedXorLast)

    rows = [row(mid(0x1000 + i), f"Quarterly report {i}: please review the attached figures",
                133_000_000_000_000_000 + i * 36_000_000_000, 2048 + 17 * i, i % 3 == 0, "Alice Jones")
            for i in range(messages)]
    query = {"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 0, "QueryRowsFlags": 0, "ForwardRead": 1,
             "RowCount": 50}
    query_response = {"RopId": 0x15, "InputHandleIndex": 0, "ReturnValue": 0, "Origin": 2, "RowData": rows}
    step3 = ([query], [TABLE], [query_response], [TABLE], CompressedXorLast)

    names = [{"Kind": 0x00, "GUID": PSETID_COMMON, "LID": 0x8580, "NameSize": None, "Name": None},
             {"Kind": 0x01, "GUID": PS_PUBLIC_STRINGS, "LID": None, "Name": "Keywords"}]
    ids_from_names = {"RopId": 0x56, "LogonId": 0, "InputHandleIndex": 0, "Flags": 0x02, "PropertyNames": names}
    ids_response = {"RopId": 0x56, "InputHandleIndex": 0, "ReturnValue": 0, "PropertyIds": [0x8001, 0x8002]}
    get_props = {"RopId": 0x07, "LogonId": 0, "InputHandleIndex": 1, "PropertySizeLimit": 0, "WantUnicode": 1,
                 "PropertyTags": tags(0x3001001F, 0x36020003, 0x36030003, 0x3613001F, 0x8001000B, 0x8002101F)}
    get_props_response = {"RopId": 0x07, "InputHandleIndex": 1, "ReturnValue": 0,
                          "RowData": {"Flag": 1, "ValueArray": [
                              {"Flag": 0, "PropertyValue": "Inbox"}, {"Flag": 0, "PropertyValue": messages},
                              {"Flag": 0, "PropertyValue": 3}, {"Flag": 0, "PropertyValue": "IPF.Note"},
                              {"Flag": 0x0A, "PropertyValue": 0x8004010F}, {"Flag": 0, "PropertyValue": ["red", "q4"]}]}}
    register = {"RopId": 0x29, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                "NotificationTypes": 0x0002 | 0x0004, "WantWholeStore": 1}
    register_response = {"RopId": 0x29, "OutputHandleIndex": 1, "ReturnValue": 0}
    step4 = ([ids_from_names, get_props, register], [LOGON, FOLDER],
             [ids_response, get_props_response, register_response], [LOGON, NOTIFY], Last)

    new_row = row(mid(0x2000), "New: team lunch on Friday", 133_000_500_000_000_000, 1024, False, "Carol White")
    notify_table = {"RopId": 0x2A, "NotificationHandle": TABLE, "LogonId": 0,
                    "NotificationData": {"NotificationFlags": 0x0100 | 0x8000, "TableEventType": 0x0003,
                                         "TableRowFolderID": INBOX, "TableRowMessageID": fid(0x2000),
                                         "TableRowInstance": 0, "InsertAfterTableRowFolderID": INBOX,
                                         "InsertAfterTableRowID": fid(0x1000), "InsertAfterTableRowInstance": 0,
                                         "TableRowData": new_row}}
    notify_mail = {"RopId": 0x2A, "NotificationHandle": NOTIFY, "LogonId": 0,
                   "NotificationData": {"NotificationFlags": 0x0002 | 0x8000, "FolderId": INBOX,
                                        "MessageId": fid(0x2000), "MessageFlags": 0, "UnicodeFlag": 0,
                                        "MessageClass": "IPM.Note"}}
    step5 = ([], [], [notify_table, notify_mail], [], XorLast)

    release = [{"RopId": 0x01, "LogonId": 0, "InputHandleIndex": i} for i in range(3)]
    step6 = (release, [TABLE, FOLDER, NOTIFY], [], [TABLE, FOLDER, NOTIFY], Last)
    return [step1, step2, step3, step4, step5, step6]


# The address book endpoint ------------------------------------------------------------------

def ab_value(value) -> dict:
    """An AddressBookPropertyValue (2.2.1.1); HasValue present for strings, binary, multi-valued."""
    return {"HasValue": 0xFF, "PropertyValue": value} if isinstance(value, (str, bytes)) else {"PropertyValue": value}


def ab_values(*pairs) -> dict:
    """An AddressBookPropertyValueList (2.2.1.3) of (tag, value)."""
    return {"PropertyValues": [{"PropertyType": t & 0xFFFF, "PropertyId": t >> 16, "PropertyValue": ab_value(v)}
                               for t, v in pairs]}


PR_DISPLAY_NAME, PR_SMTP_ADDRESS, PR_DISPLAY_TYPE, PR_ENTRYID = 0x3001001F, 0x39FE001F, 0x39000003, 0x0FFF0102


def address_book_session() -> list[Exchange]:
    """Bind, every address book request type once, Unbind (MS-OXCMAPIHTTP 2.2.5)."""
    s = Session("nspi", client="10.0.0.5:51240", connection="c3", guid="{7D2C1B6A-3E4F-4A5B-8C9D-0E1F2A3B4C5D}",
                client_info="{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:2")
    ok = {"StatusCode": 0, "ErrorCode": 0, "AuxiliaryBuffer": aux()}
    none = {"AuxiliaryBuffer": aux()}
    rows = [{"Flags": 0, "ValueArray": [ab_value(name), ab_value(smtp), ab_value(0)]}
            for name, smtp in (("Alice Jones", "alice@contoso.com"), ("Bob Smith", "bob@contoso.com"))]
    columns = large_tag_array(PR_DISPLAY_NAME, PR_SMTP_ADDRESS, PR_DISPLAY_TYPE)
    s.add("Bind", {"Flags": 0, "HasState": 1, "State": stat(), **none},
          {**ok, "ServerGuid": "{DCA740C8-C042-101A-B4B9-08002B2FE182}"},
          set_cookies={"NspiContext": "nspi-4b1d", "sid": "a1b2"})
    s.add("GetAddressBookUrl", {"Flags": 0, "UserDn": "/o=Contoso/cn=Recipients/cn=bob", **none},
          {**ok, "ServerUrl": "https://mail.contoso.com/mapi/nspi/?MailboxId=bob@contoso.com"})
    s.add("GetMailboxUrl", {"Flags": 0, "ServerDn": "/o=Contoso/cn=Configuration/cn=Servers/cn=EXCH01", **none},
          {**ok, "ServerUrl": "https://mail.contoso.com/mapi/emsmdb/?MailboxId=bob@contoso.com"})
    s.add("GetSpecialTable", {"Flags": 0x4, "HasState": 1, "State": stat(), "HasVersion": 1, "Version": 0, **none},
          {**ok, "CodePage": 0x4B0, "HasVersion": 1, "Version": 8, "HasRows": 1,
           "Rows": [ab_values((PR_DISPLAY_NAME, "All Users"), (PR_DISPLAY_TYPE, 0x100))]})
    s.add("QueryColumns", {"Reserved": 0, "MapiFlags": 0x80000000, **none},
          {**ok, "HasColumns": 1, "Columns": columns})
    s.add("DNToMId", {"Reserved": 0, "HasNames": 1, "Names": {"Strings": ["/o=Contoso/cn=Recipients/cn=bob"]}, **none},
          {**ok, "HasMinimalIds": 1, "MinimalIds": [0x1A2B]})
    s.add("GetPropList", {"Flags": 0, "MinimalId": 0x1A2B, "CodePage": 0x4E4, **none},
          {**ok, "HasPropertyTags": 1, "PropertyTags": columns})
    s.add("GetProps", {"Flags": 0, "HasState": 1, "State": stat(CurrentRec=0x1A2B), "HasPropertyTags": 1,
                       "PropertyTags": large_tag_array(PR_DISPLAY_NAME, PR_SMTP_ADDRESS), **none},
          {**ok, "CodePage": 0x4B0, "HasPropertyValues": 1,
           "PropertyValues": ab_values((PR_DISPLAY_NAME, "Bob Smith"), (PR_SMTP_ADDRESS, "bob@contoso.com"))})
    s.add("GetTemplateInfo", {"Flags": 0x1, "DisplayType": 0, "HasTemplateDn": 0, "CodePage": 0x4E4,
                              "LocaleId": 0x409, **none},
          {**ok, "CodePage": 0x4E4, "HasRow": 1, "Row": ab_values((0x00040102, bytes.fromhex("0102030405")))})
    s.add("ResolveNames", {"Reserved": 0, "HasState": 1, "State": stat(), "HasPropertyTags": 1, "PropertyTags": columns,
                           "HasNames": 1, "NameValues": ["alice"], **none},
          {**ok, "CodePage": 0x4B0, "HasMinimalIds": 1, "MinimalIds": [2], "HasRowsAndCols": 1,
           "PropertyTags": columns, "RowData": rows[:1]})
    s.add("GetMatches", {"Reserved": 0, "HasState": 1, "State": stat(), "HasMinimalIds": 0, "InterfaceOptionFlags": 0,
                         "HasFilter": 1, "Filter": {"RestrictType": 0x03, "FuzzyLevelLow": 0x0002, "FuzzyLevelHigh": 0x0001,
                                                    "PropertyTag": tags(PR_DISPLAY_NAME)[0],
                                                    "TaggedValue": {"PropertyTag": tags(PR_DISPLAY_NAME)[0],
                                                                    "PropertyValue": "Ali"}},
                         "HasPropertyName": 0, "RowCount": 50, "HasColumns": 1, "Columns": columns, **none},
          {**ok, "HasState": 1, "State": stat(TotalRecs=2), "HasMinimalIds": 1, "MinimalIds": [0x10, 0x11],
           "HasColumnsAndRows": 1, "Columns": columns, "RowData": rows})
    s.add("QueryRows", {"Flags": 0, "HasState": 1, "State": stat(), "ExplicitTable": [], "RowCount": 2,
                        "HasColumns": 1, "Columns": columns, **none},
          {**ok, "HasState": 1, "State": stat(CurrentRec=2), "HasColumnsAndRows": 1, "Columns": columns,
           "RowData": rows})
    s.add("SeekEntries", {"Reserved": 0, "HasState": 1, "State": stat(), "HasTarget": 1,
                          "Target": {"PropertyType": 0x1F, "PropertyId": 0x3001, "PropertyValue": ab_value("B")},
                          "HasExplicitTable": 0, "HasColumns": 1, "Columns": columns, **none},
          {**ok, "HasState": 1, "State": stat(NumPos=1), "HasColumnsAndRows": 1, "Columns": columns,
           "RowData": rows[1:]})
    s.add("ResortRestriction", {"Reserved": 0, "HasState": 1, "State": stat(), "HasMinimalIds": 1,
                                "MinimalIds": [0x11, 0x10], **none},
          {**ok, "HasState": 1, "State": stat(), "HasMinimalIds": 1, "MinimalIds": [0x10, 0x11]})
    s.add("CompareMIds", {"Reserved": 0, "HasState": 1, "State": stat(), "MinimalId1": 0x10, "MinimalId2": 0x11,
                          **none}, {**ok, "Result": -1})
    s.add("UpdateStat", {"Reserved": 0, "HasState": 1, "State": stat(), "DeltaRequested": 1, **none},
          {**ok, "HasState": 1, "State": stat(CurrentRec=0x11), "HasDelta": 1, "Delta": 1})
    s.add("ModProps", {"Reserved": 0, "HasState": 1, "State": stat(CurrentRec=0x1A2B), "HasPropertyTags": 0,
                       "HasPropertyValues": 1, "PropertyValues": ab_values((0x3A08001F, "+1 555 0100")), **none}, ok)
    s.add("ModLinkAtt", {"Flags": 0, "PropertyTag": tags(0x8009000D)[0], "MinimalId": 0x20, "HasEntryIds": 0, **none}, ok)
    s.add("PING", None, None)
    s.add("Unbind", {"Reserved": 0, **none}, ok)
    return s.exchanges


def sessions_for_bench(target_bytes: int) -> list[Exchange]:
    """Copies of the mailbox and address book sessions, each with its own cookies, client
    address, connections and times, until their HTTP messages add up to about `target_bytes`
    on the wire (for bench/; TCP/IP framing adds roughly a tenth)."""
    from .dissect.sources.writers import serialize

    base = mailbox_session(outlook_flow(messages=40)) + address_book_session()
    out: list[Exchange] = []
    total, copy_number = 0, 0
    while total < target_bytes:
        copy_number += 1
        shift = copy_number * 60.0
        for exchange in base:
            request, response = (_rename(m, copy_number, shift) for m in (exchange.request, exchange.response))
            out.append(Exchange(request=request, response=response, connection=f"{exchange.connection}-{copy_number}",
                                client=f"10.{copy_number // 250 % 250}.{copy_number % 250}.5:{40000 + copy_number % 20000}",
                                server=exchange.server))
            total += len(serialize(request)) + len(serialize(response))
    out.sort(key=lambda e: e.request.time)
    return out


def _rename(message: HttpMessage, number: int, shift: float) -> HttpMessage:
    """The message with the session's cookies made unique to copy `number`, `shift` s later."""
    headers = [(k, v.replace("ctx-7f3a9c", f"ctx-{number}").replace("nspi-4b1d", f"nspi-{number}"))
               for k, v in message.headers]
    copied = HttpMessage(headers=headers, body=message.body, method=message.method, target=message.target,
                         status=message.status, reason=message.reason, time=(message.time or 0) + shift,
                         end_time=(message.end_time or 0) + shift)
    if getattr(message, "chunks", None):
        copied.chunks = message.chunks
    return copied
