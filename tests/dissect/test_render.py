"""The JSON normaliser and text tree: MS-OXPROPS names wherever a property tag appears (render.py).

The named-property session reuses MS-OXORMDR section 4's properties (PidLidReminderSet, PSETID_Common
LID 0x8503; PidLidReminderDelta, 0x8501), mapped to property ids this test picks.
"""

import json

import pytest

from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.defs.core import GuidValue
from mapiwire.dissect.render import ADDRESS_BOOK_NAMES, dumps, property_name, property_name_of, render_text, to_json
from mapiwire.samples import (LOGON, PSETID_COMMON, PS_PUBLIC_STRINGS, Last, address_book_session, mailbox_session,
                              outlook_flow, tags)

PSETID_APPOINTMENT = "{00062002-0000-0000-C000-000000000046}"
PS_MAPI = "{00020328-0000-0000-C000-000000000046}"


def executes(flow):
    decoder = Decoder()
    records = [r for r in (decoder.decode(e) for e in mailbox_session(flow)) if r is not None]
    return [r for r in records if r["request_type"] == "Execute"]


def rops(record, side):
    return record[side]["RopBuffer"]["RopsList"]


def lid(guid, value):
    return {"Kind": 0x00, "GUID": guid, "LID": value, "NameSize": None, "Name": None}


def string_name(guid, value):
    return {"Kind": 0x01, "GUID": guid, "LID": None, "Name": value}


def named_flow():
    """Execute 1: logon. Execute 2: RopGetPropertyIdsFromNames maps four names. Execute 3:
    RopGetPropertiesSpecific asks for the mapped ids, which only the session state can name."""
    logon = outlook_flow()[0]
    names = [lid(PSETID_COMMON, 0x8503), lid(PSETID_COMMON, 0x8501), lid(PSETID_APPOINTMENT, 0x8FFF),
             string_name(PS_PUBLIC_STRINGS, "X-Contoso-Tag")]
    ids_request = {"RopId": 0x56, "LogonId": 0, "InputHandleIndex": 0, "Flags": 0x02, "PropertyNames": names}
    ids_response = {"RopId": 0x56, "InputHandleIndex": 0, "ReturnValue": 0,
                    "PropertyIds": [0x8004, 0x8005, 0x8006, 0x8007]}
    get_props = {"RopId": 0x07, "LogonId": 0, "InputHandleIndex": 0, "PropertySizeLimit": 0, "WantUnicode": 1,
                 "PropertyTags": tags(0x8004000B, 0x80050003, 0x80060003, 0x8007001F, 0x80080003, 0x0037001F)}
    get_props_response = {"RopId": 0x07, "InputHandleIndex": 0, "ReturnValue": 0,
                          "RowData": {"Flag": 0, "ValueArray": [{"PropertyValue": v} for v in
                                                                (True, 15, 7, "blue", 1, "Hello")]}}
    return [logon, ([ids_request], [LOGON], [ids_response], [LOGON], Last),
            ([get_props], [LOGON], [get_props_response], [LOGON], Last)]


def test_property_row_cells_carry_tag_name_and_value():
    """RopQueryRows rows (columns from an earlier RopSetColumns) and a RopGetPropertiesSpecific row."""
    records = executes(outlook_flow(2))
    cells = rops(records[2], "response")[0]["RowData"][0]["ValueArray"]
    assert cells[1] == {"PropertyTag": 0x0037001F, "PropertyName": "PidTagSubject", "PropertyTypeName": "PtypString",
                        "Value": "Quarterly report 0: please review the attached figures"}
    assert [c["PropertyName"] for c in cells] == ["PidTagMid", "PidTagSubject", "PidTagMessageDeliveryTime",
                                                  "PidTagMessageSize", "PidTagHasAttachments", "PidTagSenderName"]
    assert cells[2]["Value"].endswith("Z") and cells[4]["Value"] is True
    flagged = rops(records[3], "response")[1]["RowData"]["ValueArray"]
    assert flagged[0] == {"PropertyTag": 0x3001001F, "PropertyName": "PidTagDisplayName",
                          "PropertyTypeName": "PtypString", "Flag": 0, "Value": "Inbox"}
    assert flagged[4] == {"PropertyTag": 0x8001000B, "PropertyName": "PidLidInternetAccountName",
                          "PropertyTypeName": "PtypBoolean", "Flag": 0x0A, "Value": 0x8004010F, "ValueName": "ecNotFound"}
    assert flagged[5]["PropertyName"] == "PidNameKeywords" and flagged[5]["Value"] == ["red", "q4"]


def test_property_tags_have_the_shape_of_value_tags():
    request = rops(executes(outlook_flow(2))[1], "request")[2]  # RopSetColumns
    first = request["PropertyTags"][0]
    assert first == {"PropertyTag": 0x674A0014, "PropertyName": "PidTagMid", "PropertyTypeName": "PtypInteger64"}
    assert "[0] PidTagMid (0x674A0014, PtypInteger64)" in render_text(executes(outlook_flow(2))[1])


def test_named_ids_learned_earlier_in_the_session_are_named_later():
    records = executes(named_flow())
    requested = rops(records[2], "request")[0]["PropertyTags"]
    cells = rops(records[2], "response")[0]["RowData"]["ValueArray"]
    expected = ["PidLidReminderSet", "PidLidReminderDelta", PSETID_APPOINTMENT + ":0x8FFF",
                PS_PUBLIC_STRINGS + ":X-Contoso-Tag", None, "PidTagSubject"]
    assert [t.get("PropertyName") for t in requested] == expected
    assert [c.get("PropertyName") for c in cells] == expected
    assert cells[0] == {"PropertyTag": 0x8004000B, "PropertyName": "PidLidReminderSet", "PropertyTypeName": "PtypBoolean",
                        "Value": True}
    assert cells[4] == {"PropertyTag": 0x80080003, "PropertyTypeName": "PtypInteger32", "Value": 1}  # never mapped
    text = render_text(records[2])
    assert "PidLidReminderSet (0x8004000B): true" in text
    assert "PidTagSubject (0x0037001F): Hello" in text
    assert "0x80080003: 1" in text


def test_a_new_session_forgets_the_named_ids():
    decoder = Decoder()
    first = mailbox_session(named_flow())
    later = mailbox_session(named_flow()[::2])  # logon + RopGetPropertiesSpecific, no mapping
    for exchange in later:  # another context cookie: another session
        exchange.request.headers = [(k, v.replace("ctx-7f3a9c", "ctx-other")) for k, v in exchange.request.headers]
        exchange.response.headers = [(k, v.replace("ctx-7f3a9c", "ctx-other")) for k, v in exchange.response.headers]
    records = [r for r in (decoder.decode(e) for e in first + later) if r and r["request_type"] == "Execute"]
    cells = rops(records[-1], "response")[0]["RowData"]["ValueArray"]
    assert records[-1]["session"] == "ctx-other"
    assert [c.get("PropertyName") for c in cells] == [None, None, None, None, None, "PidTagSubject"]


def test_address_book_tags_are_named():
    decoder = Decoder()
    records = {r["request_type"]: r for r in (decoder.decode(e) for e in address_book_session()) if r}
    assert records["ModLinkAtt"]["request"]["PropertyName"] == "PidTagAddressBookMember"
    values = records["GetProps"]["response"]["PropertyValues"]["PropertyValues"]
    assert values[1] == {"PropertyTag": 0x39FE001F, "PropertyName": "PidTagSmtpAddress", "PropertyTypeName": "PtypString",
                         "HasValue": 0xFF, "Value": "bob@contoso.com"}
    rows = records["QueryRows"]["response"]["RowData"]
    assert [v["PropertyName"] for v in rows[0]["ValueArray"]] == ["PidTagDisplayName", "PidTagSmtpAddress",
                                                                  "PidTagDisplayType"]
    columns = records["QueryColumns"]["response"]["Columns"]["PropertyTags"]
    assert [c["PropertyName"] for c in columns] == ["PidTagDisplayName", "PidTagSmtpAddress", "PidTagDisplayType"]
    assert "PidTagSmtpAddress (0x39FE001F) [HasValue 255]: bob@contoso.com" in render_text(records["GetProps"])


@pytest.mark.parametrize("prop_id,prop_type,named,expected", [
    (0x0037, 0x001F, None, "PidTagSubject"),
    (0x0E08, 0x0003, None, "PidTagMessageSize"),
    (0x0E08, 0x0014, None, "PidTagMessageSizeExtended"),  # one id, two names: the type decides
    (0x3701, 0x000D, None, "PidTagAttachDataObject"),
    (0x7F00, 0x0003, None, None),
    (0x8004, 0x000B, None, None),  # a named property id with nothing learned
    (0x8004, 0x000B, {0x8004: "PidLidReminderSet"}, "PidLidReminderSet"),  # what the session learned
    (0x8005, 0x000D, {0x8005: "PidLidSomething"}, "PidLidSomething"),  # a learned name, not the address book's
    (0x8005, 0x000D, ADDRESS_BOOK_NAMES, "PidTagAddressBookManager"),  # the address book's, by type
    (0x8005, 0x001F, ADDRESS_BOOK_NAMES, "PidTagAddressBookManagerDistinguishedName"),
    (0x8012, 0x0003, {0x8012: ""}, None),  # a PropertyName without a name
])
def test_property_name(prop_id, prop_type, named, expected):
    assert property_name(prop_id, prop_type, named) == expected


@pytest.mark.parametrize("entry,expected", [
    (lid(PSETID_COMMON, 0x8503), "PidLidReminderSet"),
    (lid(GuidValue(PSETID_COMMON), 0x8503), "PidLidReminderSet"),  # as parsed
    (lid(PSETID_COMMON.lower(), 0x8503), "PidLidReminderSet"),
    (lid(PS_MAPI, 0x0037), "PidTagSubject"),  # PS_MAPI: the LID is the tag's id
    (string_name(PS_PUBLIC_STRINGS, "Keywords"), "PidNameKeywords"),
    (lid(PSETID_COMMON, 0x7FFF), PSETID_COMMON.upper() + ":0x7FFF"),  # unknown: {GUID}:0xLID
    ({"Kind": 0xFF, "GUID": PS_MAPI}, ""),
    ({"Kind": 0x00}, ""),  # no GUID: no name
])
def test_property_name_of(entry, expected):
    assert property_name_of(entry) == expected


def test_to_json_shapes_by_hand():
    tagged = {"PropertyTag": {"PropertyType": 0x001F, "PropertyId": 0x0037}, "PropertyValue": "Hi"}
    assert to_json(tagged) == {"PropertyTag": 0x0037001F, "PropertyName": "PidTagSubject", "PropertyTypeName": "PtypString",
                               "Value": "Hi"}
    restriction = {"RestrictType": 4, "RelOp": 0, "PropTag": {"PropertyType": 3, "PropertyId": 0x0E08},
                   "TaggedValue": {"PropertyTag": {"PropertyType": 3, "PropertyId": 0x0E08}, "PropertyValue": 10}}
    out = to_json(restriction)
    size = {"PropertyTag": 0x0E080003, "PropertyName": "PidTagMessageSize", "PropertyTypeName": "PtypInteger32"}
    assert out["PropTag"] == size
    assert out["TaggedValue"] == dict(size, Value=10)
    assert to_json({"PropertyType": 3, "PropertyId": 0x7F00}) == {"PropertyTag": 0x7F000003, "PropertyTypeName": "PtypInteger32"}
    problem = {"Index": 1, "PropertyTag": {"PropertyType": 3, "PropertyId": 0x0E08}, "ErrorCode": 0x8004010F}
    assert to_json(problem) == {"Index": 1, **size, "ErrorCode": 0x8004010F}  # a tag field, flattened
    assert to_json({"ServerCount": None, "RowCount": 2}) == {"RowCount": 2}  # absent, not null
    ids = to_json({"FolderId": {"ReplicaId": 1, "GlobalCounter": bytes.fromhex("00000000001d")}})
    assert ids == {"FolderId": {"ReplicaId": 1, "GlobalCounter": 0x1D}}
    logon = {"LogonTime": {"Seconds": 5, "Minutes": 4, "Hour": 16, "DayOfWeek": 1, "Day": 24, "Month": 11, "Year": 2025}}
    assert to_json(logon) == {"LogonTime": "2025-11-24T16:04:05"}
    client = to_json({"ClientIP": bytes([10, 0, 0, 5]), "ClientIPMask": bytes(16), "MacAddress": bytes(range(6))})
    assert client == {"ClientIP": "10.0.0.5", "ClientIPMask": "::", "MacAddress": "00:01:02:03:04:05"}


def test_dumps_is_compact_json_and_takes_what_orjson_refuses():
    """One compact line per record; a lone surrogate (UnicodeZ passes them through) or an
    integer past 64 bits goes through the standard encoder in the same form."""
    record = {"index": 1, "Value": "Inbox", "Flags": [0, 1.5]}
    assert dumps(record) == '{"index":1,"Value":"Inbox","Flags":[0,1.5]}'
    assert json.loads(dumps({"Value": "a\ud800b"})) == {"Value": "a\ud800b"}
    assert dumps({"Value": "a\ud800b", "n": 1}) == '{"Value":"a\ud800b","n":1}'
    assert dumps({"Value": 1 << 70}) == '{"Value":%d}' % (1 << 70)
