"""A capture with every ROP the ROP tests have a vector for, for the Lua plugin tests.

The ROP test modules (tests/dissect/defs/rops/test_*.py) hold request and response buffers of
every ROP, most from the specs' section 4 examples. `vector_session()` puts them in Execute
exchanges of one mailbox session, one ROP per exchange, so that mapiwire and the Lua plugin
decode the same bytes with the same state: a private RopLogon first (LogonFlags for LogonId 0),
a RopSetColumns before the table ROPs whose rows need columns, the response's columns as the
PropertyTags of a RopGetPropertiesSpecific request. Some exchanges compress and obfuscate their
buffers. RopReadRecipients and unsolicited ROPs that need earlier state get none, and one
RopRestrict nests its restriction past the depth bound: both decoders must then report the same
problem.
"""

from __future__ import annotations

import importlib
import re

import construct as c

from mapiwire.dissect.defs import core
from mapiwire.dissect.defs.rops import ROP_BY_ID
from mapiwire.dissect.defs.rops import oxcstor, oxctabl
from mapiwire.samples import CompressedXorLast, Last, Session, XorLast, aux, rop_request

MODULES = ["oxcstor", "oxcfold", "oxctabl", "oxcmsg", "oxomsg", "oxcprpt", "oxcperm", "oxorule", "oxcfxics",
           "oxcnotif", "oxcrops"]
PARAM_KEYS = {"request_rop", "private_logon", "logons", "request_rops"}
HEX = re.compile(r"^[0-9a-fA-F\s]+$")


def _roles() -> dict[int, tuple]:
    """id(definition) -> (RopDef, "request" | "response")."""
    roles = {}
    for rop in ROP_BY_ID.values():
        if rop.request is not None:
            roles[id(rop.request)] = (rop, "request")
        responses = [rop.response, rop.failure, *rop.error_shapes.values()]
        if isinstance(rop.response, c.Renamed) and isinstance(rop.response.subcon, c.Switch):
            responses += list(rop.response.subcon.cases.values())
        for definition in responses:
            if definition is not None:
                roles.setdefault(id(definition), (rop, "response"))
    return roles


def vectors() -> list[tuple]:
    """(RopDef, role, bytes, params) of every ROP vector that parses with its definition."""
    roles = _roles()
    found = []
    for name in MODULES:
        module = importlib.import_module(f"tests.dissect.defs.rops.test_{name}")
        for table in ("VECTORS", "CASES"):
            for case in getattr(module, table, []):
                definition = next((x for x in case if isinstance(x, c.Construct) and id(x) in roles), None)
                if definition is None:
                    continue
                params = next((x for x in case if isinstance(x, dict) and set(x) & PARAM_KEYS), None)
                hit = _first_parsing(definition, case, [params] if params is not None else [{}, _state(module)])
                if hit is not None:
                    found.append((*roles[id(definition)], *hit))
    return found


def _state(module) -> dict:
    """The module's default parse params (its STATE: the request state its response vectors need)."""
    state = getattr(module, "STATE", None)
    if isinstance(state, dict) and set(state) & PARAM_KEYS:
        return state
    return {"request_rop": state} if isinstance(state, c.Container) else {}


def _first_parsing(definition, case, param_sets):
    """(bytes, params) of the first hex string of `case` that parses with `definition`."""
    for params in param_sets:
        for candidate in case:
            if not (isinstance(candidate, bytes) or isinstance(candidate, str) and HEX.match(candidate)):
                continue
            try:
                data = candidate if isinstance(candidate, bytes) else bytes.fromhex(candidate)
                core.parse(definition, data, **params)
            except Exception:  # not this vector's bytes (a name, or bytes of another case)
                continue
            return data, params
    return None


def _set_columns(index: int, columns) -> tuple[bytes, bytes]:
    tags = [{"PropertyType": int(t["PropertyType"]), "PropertyId": int(t["PropertyId"])} for t in columns]
    request = core.build(oxctabl.RopSetColumnsRequest, {"RopId": 0x12, "LogonId": 0, "InputHandleIndex": index,
                                                        "SetColumnsFlags": 0, "PropertyTags": tags})
    response = core.build(oxctabl.RopSetColumnsResponse, {"RopId": 0x12, "InputHandleIndex": index, "ReturnValue": 0,
                                                          "TableStatus": 0})
    return request, response


LOGON_REQUEST = core.build(oxcstor.RopLogonRequest, {
    "RopId": 0xFE, "LogonId": 0, "OutputHandleIndex": 0, "LogonFlags": 0x01, "OpenFlags": 0x01000C04,
    "StoreState": 0, "Essdn": "/o=Contoso/cn=bob"})


# RopRestrict whose restriction nests 40 NotRestrictions around an ExistRestriction (PidTagSubject):
# past the depth bound of MS-OXCDATA 2.12 restrictions (32) on both sides
_NESTED = bytes([0x02] * 40) + bytes([0x08]) + (0x0037001F).to_bytes(4, "little")
DEEP_RESTRICTION = bytes([0x14, 0x00, 0x00, 0x00]) + len(_NESTED).to_bytes(2, "little") + _NESTED


def _exchange_rops(rop, requests, data, params):
    """The request and response ROP lists (raw bytes) of one exchange for a response vector."""
    request_rop = params.get("request_rop") or {}
    columns = request_rop.get("_columns")
    pre_request, pre_response = [], []
    request = requests[0] if requests else None
    if request is not None and columns is not None and rop.name in ("RopQueryRows", "RopFindRow", "RopExpandRow"):
        index = core.parse(rop.request, request).get("InputHandleIndex", 0)
        set_request, set_response = _set_columns(index, columns)
        pre_request, pre_response = [set_request], [set_response]
    if request is not None and columns is not None and rop.name == "RopGetPropertiesSpecific":
        value = core.parse(rop.request, request)
        value["PropertyTags"] = [{"PropertyType": int(t["PropertyType"]), "PropertyId": int(t["PropertyId"])}
                                 for t in columns]
        request = core.build(rop.request, value)
    if request is not None and rop.name == "RopLogon" and request_rop.get("LogonFlags") is not None:
        value = core.parse(rop.request, request)
        value["LogonFlags"] = (int(value["LogonFlags"]) & ~0x01) | (int(request_rop["LogonFlags"]) & 0x01)
        request = core.build(rop.request, value)
    return pre_request + ([request] if request is not None else []), pre_response + [data]


def vector_session() -> list:
    """The Execute exchanges of one mailbox session: every harvested ROP vector."""
    found = vectors()
    by_rop: dict[int, dict] = {}
    for rop, role, data, params in found:
        entry = by_rop.setdefault(rop.rop_id, {"rop": rop, "request": [], "response": []})
        entry[role].append((data, params))
    s = Session("emsmdb", client="10.0.0.9:52000", connection="v1", guid="{0F0F0F0F-1111-2222-3333-444455556666}")
    s.cookies = {"MapiContext": "vectors-ctx", "MapiSequence": "v-1"}
    headers = [Last, XorLast, CompressedXorLast]
    handles = [0x100 + i for i in range(8)]

    def execute(request_rops, response_rops, n):
        header = headers[n % 3]
        s.add("Execute",
              {"Flags": 0, "RopBuffer": rop_request([{"Undecoded": r} for r in request_rops], handles, header),
               "MaxRopOut": 0x40000, "AuxiliaryBuffer": aux()},
              {"StatusCode": 0, "ErrorCode": 0, "Flags": 0,
               "RopBuffer": rop_request([{"Undecoded": r} for r in response_rops], handles, header),
               "AuxiliaryBuffer": aux()})

    n = 0
    execute([LOGON_REQUEST], [], n)
    execute([DEEP_RESTRICTION], [], n)
    for entry in by_rop.values():
        rop = entry["rop"]
        requests = [data for data, _ in entry["request"]]
        for data, params in entry["response"] or [(None, {})]:
            n += 1
            if data is None:
                execute(requests[:1], [], n)
                continue
            request_rops, response_rops = _exchange_rops(rop, requests, data, params)
            execute(request_rops, response_rops, n)
        for extra in requests[1:]:  # the other request vectors, without a response
            n += 1
            execute([extra], [], n)
    return s.exchanges
