"""The mailbox endpoint's request types: Connect, Execute, Disconnect, NotificationWait
(MS-OXCMAPIHTTP 2.2.4). Bodies are parsed and built with the dissector's definitions; the ROPs
themselves go to the STORE's `MailboxSession.execute`.

Execute framing (MS-OXCRPC 3.1.4.1.1.1): the request's RPC_HEADER_EXT payloads are reverted
(XOR) and decompressed by the definitions; the response is compressed and obfuscated unless the
request's Flags say NoCompression (0x1) / NoXorMagic (0x2) (MS-OXCMAPIHTTP 2.2.4.2.1; payloads
under COMPRESS_MIN bytes are sent uncompressed, as MS-OXCRPC 3.1.4.1.1 allows), one response
payload per request payload.
"""

from __future__ import annotations

import functools
import io

from ..dissect import fastpath
from ..dissect.defs.core import build
from ..dissect.defs.ropbuffer import RopOutputBuffer
from ..dissect.defs.mapihttp import (ConnectSuccess, DisconnectSuccess, ExecuteRequest, ExecuteSuccess,
                                     NotificationWaitSuccess)

EC_UNKNOWN_USER = 0x000003EB  # MS-OXCDATA 2.4.1
EC_ACCESS_DENIED = 0x80070005
EC_TOO_MANY_SESSIONS = 0x80040112

NO_COMPRESSION, NO_XOR_MAGIC = 0x1, 0x2  # Execute Flags, MS-OXCMAPIHTTP 2.2.4.2.1
COMPRESSED, XOR_MAGIC, LAST = 0x1, 0x2, 0x4  # RPC_HEADER_EXT Flags, MS-OXCRPC 2.2.2.1
MAX_PAYLOAD = 0x8000  # MS-OXCRPC 3.1.4.1.1: a payload is at most 32 KB
COMPRESS_MIN = 512  # responses shorter than this go uncompressed (compression is the server's choice)
ROP_LOGON = 0xFE

POLLS_MAX_MS = 60_000  # MS-OXCMAPIHTTP 2.2.4.1.2: PollsMax, RetryCount, RetryDelay (values as Exchange)
RETRY_COUNT = 6
RETRY_DELAY_MS = 10_000

EMPTY_AUX = {"Blocks": []}


@functools.lru_cache(maxsize=64)  # a pure function of its arguments: built once per value
def connect_response(*, error_code: int = 0, dn_prefix: str = "", display_name: str = "") -> bytes:
    """MS-OXCMAPIHTTP 2.2.4.1.2 Connect success body; ErrorCode carries EcDoConnectEx's result
    (MS-OXCRPC 3.1.4.11): ecUnknownUser for a UserDn nobody has, ecAccessDenied for another
    user's mailbox, ecTooManySessions at the session cap."""
    ok = error_code == 0
    return build(ConnectSuccess, {
        "StatusCode": 0, "ErrorCode": error_code,
        "PollsMax": POLLS_MAX_MS if ok else 0, "RetryCount": RETRY_COUNT if ok else 0,
        "RetryDelay": RETRY_DELAY_MS if ok else 0, "DnPrefix": dn_prefix, "DisplayName": display_name,
        "AuxiliaryBuffer": EMPTY_AUX})


@functools.lru_cache(maxsize=64)  # a pure function of its arguments: built once per value
def disconnect_response() -> bytes:
    """MS-OXCMAPIHTTP 2.2.4.3.2 Disconnect success body."""
    return build(DisconnectSuccess, {"StatusCode": 0, "ErrorCode": 0, "AuxiliaryBuffer": EMPTY_AUX})


@functools.lru_cache(maxsize=64)  # a pure function of its arguments: built once per value
def notification_wait_response(event_pending: bool) -> bytes:
    """MS-OXCMAPIHTTP 2.2.4.4.2 NotificationWait success body: EventPending 1 when an event
    waits for the next Execute (3.2.5.5)."""
    return build(NotificationWaitSuccess, {"StatusCode": 0, "ErrorCode": 0, "EventPending": int(event_pending),
                                           "AuxiliaryBuffer": EMPTY_AUX})


def parse_execute(body: bytes, logons: dict[int, int]):
    """MS-OXCMAPIHTTP 2.2.4.2.1 Execute request body, strictly: any malformed structure or a
    byte left over raises (the app answers 12 Invalid Request Body). An empty body is the
    "empty request" a client sends to collect notifications (3.1.5.5)."""
    if not body:
        return {"Flags": 0, "RopBuffer": None, "MaxRopOut": MAX_PAYLOAD}
    if fastpath.enabled():  # the parser generated from the same definitions; construct for anything else
        request = fastpath.parse(ExecuteRequest, body, logons=logons)
        if request is not fastpath.FALLBACK:
            return request
    stream = io.BytesIO(body)
    request = ExecuteRequest.parse_stream(stream, logons=logons)
    if stream.tell() != len(body):
        raise ValueError(f"{len(body) - stream.tell()} bytes after the Execute body")
    return request


def _payloads(rop_buffer) -> list:
    if rop_buffer is None:
        return [{"RopsList": [], "ServerObjectHandleTable": []}]
    return list(rop_buffer["Payloads"]) if "Payloads" in rop_buffer else [rop_buffer]


def execute(mailbox, request, logons: dict[int, int]) -> tuple[bytes, list[str]]:
    """Run an Execute request's ROPs on the session's MailboxSession and build the success
    body (2.2.4.2.2). Returns the body and the request's ROP names (for the request log).
    `logons` (LogonId -> LogonFlags) is updated from successful RopLogons: later requests are
    parsed with it (MS-OXCROPS 2.2.3.1: some ROP layouts depend on the logon being private)."""
    flags = int(request["Flags"])
    header_flags = (0 if flags & NO_COMPRESSION else COMPRESSED) | (0 if flags & NO_XOR_MAGIC else XOR_MAGIC)
    max_rop_out = min(int(request["MaxRopOut"]), MAX_PAYLOAD)
    names: list[str] = []
    out = []
    for payload in _payloads(request["RopBuffer"]):
        if "Undecoded" in payload:
            raise ValueError("a RopBuffer payload does not decode")
        rops = list(payload["RopsList"])
        handles = list(payload["ServerObjectHandleTable"])
        names += [str(rop.get("RopName") or f"Rop{int(rop['RopId']):#04x}") for rop in rops]
        response_rops, response_handles = mailbox.execute(rops, handles, max_rop_out)
        _learn_logons(rops, response_rops, logons)
        out.append((rops, {"RopsList": response_rops, "ServerObjectHandleTable": response_handles}))
    rop_buffer = _frame(out, header_flags, getattr(mailbox, "notify_state", None))
    body = build(ExecuteSuccess, {"StatusCode": 0, "ErrorCode": 0, "Flags": 0, "RopBuffer": rop_buffer,
                                  "AuxiliaryBuffer": EMPTY_AUX})
    return body, names


def _frame(out: list, header_flags: int, notify_state) -> dict:
    """The response RopBuffer value: each payload built with its own request ROPs (response
    layouts depend on them, MS-OXCROPS 2.2.1), then wrapped in RPC_HEADER_EXT with the flags the
    client allows; the definitions compress and obfuscate (MS-OXCRPC 3.1.4.1.1.1.1)."""
    params = {"notify_state": notify_state} if notify_state is not None else {}
    plain = [build(RopOutputBuffer, dict(value, RopsList=_prebuilt(value["RopsList"])), request_rops=rops, **params)
             for rops, value in out]
    # MS-OXCRPC 3.1.4.1.1: the server may leave a payload uncompressed; a small one gains nothing
    headers = [{"Version": 0, "Flags": header_flags if len(p) >= COMPRESS_MIN else header_flags & ~COMPRESSED}
               for p in plain]
    headers[-1]["Flags"] |= LAST
    if len(plain) == 1:
        return {"RPC_HEADER_EXT": headers, "Undecoded": plain[0]}
    return {"RPC_HEADER_EXT": headers, "Payloads": [{"Undecoded": p} for p in plain]}


def _prebuilt(responses: list) -> list:
    """The response RopsList with each response the mailbox already built (its bytes in a `built`
    attribute, rops/session.py BuiltResponse) as `{"RopId", "Undecoded"}`, which RopList writes as
    they are (MS-OXCROPS 2.2.1): one build per ROP. The others (RopNotify, RopBufferTooSmall:
    unsolicited, paired with no request) are built here."""
    out = []
    for response in responses:
        data = getattr(response, "built", None)
        out.append(response if data is None else {"RopId": response["RopId"], "Undecoded": data})
    return out


def _learn_logons(rops: list, responses: list, logons: dict[int, int]) -> None:
    """LogonId -> LogonFlags of every RopLogon that succeeded (MS-OXCROPS 2.2.3.1)."""
    answered = [r for r in responses if int(r.get("RopId", -1)) == ROP_LOGON]
    for rop in (r for r in rops if int(r.get("RopId", -1)) == ROP_LOGON):
        if not answered:
            break
        response = answered.pop(0)
        if int(response.get("ReturnValue", 1)) == 0:
            logons[int(rop.get("LogonId", 0))] = int(rop.get("LogonFlags", 0))
