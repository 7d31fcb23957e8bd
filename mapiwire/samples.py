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
            chunked: bool = True) -> Exchange:
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
            build(body_def.request, request_body) if request_body is not None else b"")
        request = HttpMessage(headers=headers + [("Content-Length", str(len(body)))], body=body, method="POST",
                              target=f"/mapi/{self.endpoint}/?MailboxId={self.mailbox}", time=self.clock)
        if raw_response is not None:
            inner = raw_response
        else:
            payload = b""
            if response_body is not None:
                status = response_body.get("StatusCode", 0)
                payload = build(body_def.success if status == 0 else body_def.failure, response_body)
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
    ROPs, response handles, header)), NotificationWait, PING, a network change, Disconnect."""
    s = Session("emsmdb")
    s.add("Connect",
          {"UserDn": "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=bob",
           "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033, "LcidString": 1033, "AuxiliaryBuffer": CLIENT_AUX},
          {"StatusCode": 0, "ErrorCode": 0, "PollsMax": 60000, "RetryCount": 6, "RetryDelay": 10000,
           "DnPrefix": "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)", "DisplayName": "Bob Smith",
           "AuxiliaryBuffer": SERVER_AUX},
          set_cookies={"MapiContext": "ctx-7f3a9c", "MapiSequence": "seq-1"})
    for i, (req_rops, req_handles, resp_rops, resp_handles, header) in enumerate(rop_flow or []):
        s.add("Execute",
              {"Flags": 0, "RopBuffer": rop_request(req_rops, req_handles, header), "MaxRopOut": 0x40000,
               "AuxiliaryBuffer": aux((1, 0x01, "AUX_PERF_REQUESTID", {"SessionID": 1, "RequestID": i + 2}))},
              {"StatusCode": 0, "ErrorCode": 0, "Flags": 0,
               "RopBuffer": rop_request(resp_rops, resp_handles, header), "AuxiliaryBuffer": aux()},
              pending=pending if i == 1 else 0, set_cookies={"MapiSequence": f"seq-{i + 2}"})
    s.add("NotificationWait", {"Flags": 0, "AuxiliaryBuffer": aux()},
          {"StatusCode": 0, "ErrorCode": 0, "EventPending": 1, "AuxiliaryBuffer": aux()}, pending=2)
    s.add("PING", None, None)
    s.move("192.168.1.23:60112", "c2")  # Wi-Fi to cellular: same context, new address
    s.add("PING", None, None)
    s.add("Disconnect", {"AuxiliaryBuffer": aux()}, {"StatusCode": 0, "ErrorCode": 0, "AuxiliaryBuffer": aux()})
    return s.exchanges


def failures() -> list[Exchange]:
    """Requests the server refuses: an expired context (X-ResponseCode 10, text/html body) and a
    Connect whose body is a failure body (StatusCode != 0)."""
    s = Session("emsmdb", client="10.0.0.7:50100", connection="c9", guid="{11111111-2222-3333-4444-555555555555}")
    s.cookies = {"MapiContext": "expired-ctx", "MapiSequence": "seq-9"}
    exchange = s.add("Execute", {"Flags": 0, "RopBuffer": rop_request([], []), "MaxRopOut": 0x40000,
                                 "AuxiliaryBuffer": aux()}, None,
                     raw_response=b"<html><body>Context not found</body></html>", chunked=False)
    for i, (name, value) in enumerate(exchange.response.headers):
        if name == "X-ResponseCode":
            exchange.response.headers[i] = (name, "10")
        if name == "Content-Type":
            exchange.response.headers[i] = (name, "text/html")
    s.cookies = {}
    s.add("Connect", {"UserDn": "/o=Contoso/cn=nobody", "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033,
                      "LcidString": 1033, "AuxiliaryBuffer": aux()},
          {"StatusCode": 0x000003EB, "AuxiliaryBuffer": aux()})
    return s.exchanges
