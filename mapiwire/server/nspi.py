"""The address book endpoint of `mapiwire serve`: NSPI over MAPI/HTTP.

Bodies are MS-OXCMAPIHTTP 2.2.5 (parsed and built by dissect.defs.addressbook); the semantics are the
MS-OXNSPI 3.1.4.1 server processing rules. The directory is the Store's users, one Global Address
List (ContainerID 0) sorted by display name (SortTypeDisplayName). Minimal Entry IDs (MS-OXNSPI 2.2.9.1)
are assigned per session, in table order, from a random base, so they are stable within a session and
mean nothing in another one. A request with wrong values gets its MS-OXNSPI 2.2.1.2 return value in
ErrorCode of the success body (StatusCode 0), the optional parts absent; `handle` never raises.
"""

from __future__ import annotations

import secrets
import uuid

import construct as c

from ..dissect.defs.mapihttp import BODIES
from ..dissect.defs.oxcdata import tag_value
from .directory import Directory, Entry, pid, tag
from .restrictions import TooComplex

# MS-OXNSPI 2.2.1.2 return values
SUCCESS, UNBIND_SUCCESS, ERRORS_RETURNED = 0x00000000, 0x00000001, 0x00040380
GENERAL_FAILURE, NOT_SUPPORTED, NOT_FOUND = 0x80004005, 0x80040102, 0x8004010F
TOO_COMPLEX, INVALID_CODEPAGE, TABLE_TOO_BIG = 0x80040117, 0x8004011E, 0x80040403
INVALID_BOOKMARK, INVALID_PARAMETER = 0x80040405, 0x80070057

# MS-OXNSPI 2.2.1.8 positions, 2.2.1.9 ANR results, 2.2.1.3 code pages, 2.2.1.10 sort types
MID_BEGINNING_OF_TABLE, MID_CURRENT, MID_END_OF_TABLE = 0x0, 0x1, 0x2
MID_UNRESOLVED, MID_AMBIGUOUS = 0x0, 0x1
CP_WINUNICODE, CP_WINDOWS_1252 = 0x04B0, 0x04E4
SORT_DISPLAY_NAMES = (0x00000000, 0x00000003)  # SortTypeDisplayName, SortTypePhoneticDisplayName

PTYP_UNSPECIFIED, PTYP_ERROR_CODE, PTYP_STRING8, PTYP_STRING = 0x0000, 0x000A, 0x001E, 0x001F
MV_STRING8, MV_STRING = 0x101E, 0x101F
NARROW = {PTYP_STRING: PTYP_STRING8, MV_STRING: MV_STRING8}

# request flags: MS-OXCMAPIHTTP 2.2.5.7.1 / 2.2.5.12.1 (fEphID), 2.2.5.8.1, 2.2.5.13.1
F_EPH_ID = 0x00000002
NSPI_ADDRESS_CREATION_TEMPLATES, NSPI_UNICODE_STRINGS, NSPI_UNICODE_PROPTYPES = 0x00000002, 0x00000004, 0x80000000

HIERARCHY_VERSION = 1
MAX_ROWS = 10_000  # rows, names and MIds a single request may ask the server to work through
MAX_COLUMNS = 1_000  # property tags per row ("excessive length": TableTooBig, MS-OXNSPI 3.1.4.1.7)
MAX_CELLS = 100_000  # values in one answer's rows

DISPLAY_NAME = tag("PidTagDisplayName")
# MS-OXNSPI 3.1.4.1.8: the columns of NspiQueryRows when the client gives none
DEFAULT_COLUMNS = [tag("PidTagAddressBookContainerId"), tag("PidTagObjectType"), tag("PidTagDisplayType"),
                   pid("PidTagDisplayName") << 16 | PTYP_STRING8,
                   pid("PidTagPrimaryTelephoneNumber") << 16 | PTYP_STRING8,
                   pid("PidTagDepartmentName") << 16 | PTYP_STRING8,
                   pid("PidTagOfficeLocation") << 16 | PTYP_STRING8]


def tag_dict(value: int) -> dict:
    """A 32-bit tag as a PropertyTag value (MS-OXCDATA 2.9)."""
    return {"PropertyType": value & 0xFFFF, "PropertyId": value >> 16}


def narrowed(tags: list[int]) -> list[int]:
    """String tags as PtypString8 / PtypMultipleString8 (MS-OXNSPI 3.1.4.3)."""
    return [(t & 0xFFFF0000) | NARROW.get(t & 0xFFFF, t & 0xFFFF) for t in tags]


class Refused(Exception):
    """A request the server answers with an MS-OXNSPI return value other than success."""

    def __init__(self, code: int):
        super().__init__(hex(code))
        self.code = code


def wire_value(ptype: int, value) -> dict:
    """An AddressBookPropertyValue (MS-OXCMAPIHTTP 2.2.1.1); the multi-valued strings and binaries
    carry one HasValue per element."""
    if ptype in (MV_STRING, MV_STRING8, 0x1102):
        return {"PropertyValue": [{"Value": v} for v in value]}
    return {"PropertyValue": value}


def check_code_page(stat: dict | None) -> None:
    """MS-OXNSPI 3.1.4.3: a STAT whose CodePage is CP_WINUNICODE is refused by the 8-bit methods."""
    if stat is not None and int(stat["CodePage"]) == CP_WINUNICODE:
        raise Refused(INVALID_CODEPAGE)


def plain_stat(stat) -> dict:
    """A parsed STAT as a dict of ints (MS-OXNSPI 2.2.8)."""
    return {k: int(stat[k]) for k in ("SortType", "ContainerID", "CurrentRec", "Delta", "NumPos", "TotalRecs",
                                      "CodePage", "TemplateLocale", "SortLocale")}


def empty_body(request_type: str, code: int, code_page: int = CP_WINDOWS_1252) -> dict:
    """The success body of `request_type` (MS-OXCMAPIHTTP 2.2.5.x.2) that carries only ErrorCode `code`:
    every Has-field 0, so the optional parts are absent."""
    body: dict = {"StatusCode": 0, "ErrorCode": code, "AuxiliaryBuffer": {"Blocks": []}}
    for sub in BODIES[request_type].success.subcon.subcons:
        name = sub.name
        if name is None or name in body:
            continue
        if name.startswith("Has"):
            body[name] = 0
        elif name == "CodePage":
            body[name] = code_page
        elif name == "Result":
            body[name] = 0
        elif name == "ServerUrl":
            body[name] = ""
        elif name == "ServerGuid":
            body[name] = uuid.UUID(int=0)
    return body


class AddressBookSession:
    """NSPI state of one address book session context (MS-OXCMAPIHTTP 2.2.5, MS-OXNSPI 3.1.4.1)."""

    HANDLERS = {  # X-RequestType -> method
        "Bind": "bind", "Unbind": "unbind", "CompareMIds": "compare_mids", "DNToMId": "dn_to_mid",
        "GetMatches": "get_matches", "GetPropList": "get_prop_list", "GetProps": "get_props",
        "GetSpecialTable": "get_special_table", "GetTemplateInfo": "not_supported", "ModLinkAtt": "not_supported",
        "ModProps": "not_supported", "QueryRows": "query_rows", "QueryColumns": "query_columns",
        "ResolveNames": "resolve_names", "ResortRestriction": "not_supported", "SeekEntries": "seek_entries",
        "UpdateStat": "update_stat", "GetMailboxUrl": "get_mailbox_url", "GetAddressBookUrl": "get_address_book_url",
    }

    def __init__(self, store, user, *, mailbox_url: str, addressbook_url: str):
        self.user = user
        self.mailbox_url = mailbox_url
        self.addressbook_url = addressbook_url
        domain = store.organization.get("domain", "mapiwire.test")
        self.server_guid = uuid.uuid5(uuid.NAMESPACE_DNS, "nspi." + domain)  # one per server, stable
        self.directory = Directory(store.users, self.server_guid, base=0x1000 + secrets.randbelow(1 << 16) * 0x100)

    def handle(self, request_type: str, request: dict) -> dict:
        """One request body (parsed with BODIES[request_type].request) -> the response body value for
        BODIES[request_type].success, or .failure for a type this endpoint does not have."""
        name = self.HANDLERS.get(request_type)
        if name is None:
            return {"StatusCode": NOT_SUPPORTED, "AuxiliaryBuffer": {"Blocks": []}}
        try:
            return getattr(self, name)(request)
        except Refused as refused:
            return empty_body(request_type, refused.code)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, c.ConstructError):
            return empty_body(request_type, GENERAL_FAILURE)

    # Session ---------------------------------------------------------------------------------

    def bind(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.1, MS-OXNSPI 3.1.4.1.1 NspiBind: the server GUID; a STAT in
        CP_WINUNICODE is refused (InvalidCodepage)."""
        check_code_page(request.get("State"))
        return {**empty_body("Bind", SUCCESS), "ServerGuid": self.server_guid}

    def unbind(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.2, MS-OXNSPI 3.1.4.1.2 NspiUnbind: returns UnbindSuccess (0x1)."""
        return empty_body("Unbind", UNBIND_SUCCESS)

    def not_supported(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP GetTemplateInfo (2.2.5.9), ModLinkAtt (2.2.5.10), ModProps (2.2.5.11),
        ResortRestriction (2.2.5.15); MS-OXNSPI 3.1.4.1.18, 3.1.4.1.15, 3.1.4.1.14, 3.1.4.1.11. This
        server keeps no display templates, a read-only directory and no resorting, and answers these
        as a server without them: ErrorCode NotSupported (MS-OXNSPI 2.2.1.2), no optional parts."""
        raise Refused(NOT_SUPPORTED)

    # Tables and positions --------------------------------------------------------------------

    def table(self, stat: dict | None) -> list[Entry]:
        """The table a STAT names by ContainerID: only the Global Address List (0) exists here;
        another container is InvalidBookmark (MS-OXNSPI 3.1.4.1.x: "unable to locate the container")."""
        if stat is not None and stat["ContainerID"] != 0:
            raise Refused(INVALID_BOOKMARK)
        return self.directory.entries()

    def locate(self, stat: dict, table: list[Entry]) -> tuple[int, int]:
        """MS-OXNSPI 3.1.4.5: the row of the Current Position before and after Delta. Absolute
        positioning (CurrentRec a MId or MID_BEGINNING_OF_TABLE / MID_END_OF_TABLE) or fractional
        positioning (MID_CURRENT: NumPos/TotalRecs of the table); a MId not in the table is NotFound."""
        total, current = len(table), stat["CurrentRec"]
        if current == MID_BEGINNING_OF_TABLE:
            start = 0
        elif current == MID_END_OF_TABLE:
            start = total
        elif current == MID_CURRENT:
            start = total if stat["NumPos"] >= stat["TotalRecs"] else stat["NumPos"] * total // stat["TotalRecs"]
        else:
            start = self.directory.index_of(current)
            if start is None:
                raise Refused(NOT_FOUND)
        return start, min(max(start + stat["Delta"], 0), total)

    @staticmethod
    def moved(stat: dict, table: list[Entry], index: int) -> dict:
        """The STAT the server returns at row `index` (MS-OXNSPI 2.2.8: CurrentRec, NumPos, TotalRecs
        set, Delta 0 on success; the other fields as the client sent them)."""
        current = table[index].mid if index < len(table) else MID_END_OF_TABLE
        return {**stat, "CurrentRec": current, "Delta": 0, "NumPos": index, "TotalRecs": len(table)}

    def update_stat(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.17, MS-OXNSPI 3.1.4.1.4 NspiUpdateStat: moves the position by Delta;
        with DeltaRequested, Delta reports the rows actually moved."""
        stat = self.required_stat(request)
        check_code_page(stat)
        table = self.table(stat)
        start, end = self.locate(stat, table)
        body = {**empty_body("UpdateStat", SUCCESS), "HasState": 1, "State": self.moved(stat, table, end)}
        if request.get("DeltaRequested"):
            body.update(HasDelta=1, Delta=end - start)
        return body

    @staticmethod
    def required_stat(request: dict) -> dict:
        """The request's STAT; a request without one is InvalidParameter."""
        if not request.get("HasState"):
            raise Refused(INVALID_PARAMETER)
        return plain_stat(request["State"])

    # Rows ------------------------------------------------------------------------------------

    def columns(self, request: dict, name: str) -> list[int] | None:
        """The LargePropertyTagArray `name` of a request as 32-bit tags; more than MAX_COLUMNS is TableTooBig."""
        has = {"Columns": "HasColumns", "PropertyTags": "HasPropertyTags"}[name]
        if not request.get(has):
            return None
        if len(request[name]["PropertyTags"]) > MAX_COLUMNS:
            raise Refused(TABLE_TOO_BIG)
        return [tag_value(t) for t in request[name]["PropertyTags"]]

    def row(self, entry: Entry | None, columns: list[int], ephemeral: bool) -> dict:
        """An AddressBookPropertyRow (MS-OXCMAPIHTTP 2.2.1.7): Flags 0 with plain values (typed ones
        for PtypUnspecified columns) when every column has a value, else Flags 1 with flagged values
        (MS-OXCDATA 2.11.5), a missing or mistyped one as PtypErrorCode NotFound."""
        found = [None if entry is None else self.directory.value(entry, column, ephemeral) for column in columns]
        flagged = any(value is None for value in found)
        values = []
        for column, value in zip(columns, found):
            if value is None:
                ptype, flag, plain = PTYP_ERROR_CODE, 0xA, {"PropertyValue": NOT_FOUND}
            else:
                ptype, flag, plain = value[0], 0x0, wire_value(*value)
            item = {"Flag": flag, "PropertyValue": plain} if flagged else plain
            if column & 0xFFFF == PTYP_UNSPECIFIED:  # 2.2.1.4 / 2.2.1.6: the value carries its type
                item = {"PropertyType": ptype, **item} if flagged else {"PropertyType": ptype, "PropertyValue": plain}
            values.append(item)
        return {"Flags": 1 if flagged else 0, "ValueArray": values}

    def rows(self, entries, columns: list[int], ephemeral: bool) -> list[dict]:
        return [self.row(entry, columns, ephemeral) for entry in entries]

    def explicit_entries(self, mids) -> list[Entry | None]:
        """The objects of an Explicit Table (MS-OXNSPI 3.1.4.4.2), None for a MId of no object."""
        if len(mids) > MAX_ROWS:
            raise Refused(TABLE_TOO_BIG)
        return [self.directory.entry(int(mid)) for mid in mids]

    def row_set(self, columns: list[int] | None, entries, ephemeral: bool = False) -> dict:
        """Columns + RowData of a response, as NspiQueryRows builds them for these rows (3.1.4.1.8); more
        than MAX_CELLS values is TableTooBig."""
        if len(entries) * len(columns) > MAX_CELLS:
            raise Refused(TABLE_TOO_BIG)
        return {"Columns": {"PropertyTags": [tag_dict(t) for t in columns]},
                "RowData": self.rows(entries, columns, ephemeral)}

    def query_rows(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.12, MS-OXNSPI 3.1.4.1.8 NspiQueryRows: at most RowCount rows, in table
        order, each what NspiGetProps gives for its object (a MId of no object: a row of PtypErrorCode
        values). With an explicit table, from its first row, the STAT untouched; otherwise from the
        Current Position (with Delta) of the STAT's table, the STAT then moved past them as
        NspiUpdateStat would. RowCount 0 is InvalidParameter; without columns, the default ones."""
        stat = self.required_stat(request)
        check_code_page(stat)
        columns = self.columns(request, "Columns") or DEFAULT_COLUMNS
        ephemeral = bool(int(request["Flags"]) & F_EPH_ID)
        count = min(int(request["RowCount"]), MAX_ROWS)
        if count == 0:
            raise Refused(INVALID_PARAMETER)
        explicit = request.get("ExplicitTable") or []
        if explicit:
            entries, new_stat = self.explicit_entries(explicit)[:count], stat
        else:
            table = self.table(stat)
            _, start = self.locate(stat, table)
            entries = table[start:start + count]
            new_stat = self.moved(stat, table, start + len(entries))
        return {**empty_body("QueryRows", SUCCESS), "HasState": 1, "State": new_stat, "HasColumnsAndRows": 1,
                **self.row_set(columns, entries, ephemeral)}

    def seek_entries(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.16, MS-OXNSPI 3.1.4.1.9 NspiSeekEntries: the first row (of the STAT's
        table, or of the explicit table) whose PidTagDisplayName sorts at or after Target becomes the
        Current Position (CurrentRec, NumPos, TotalRecs of the table used); none is NotFound. A sort
        other than SortTypeDisplayName, or a Target other than PidTagDisplayName, is GeneralFailure;
        an explicit table with a MId outside the container, or Reserved not 0, InvalidParameter.
        With columns, the rows NspiQueryRows would give: the whole explicit table, or the STAT's
        table from the new position."""
        stat = self.required_stat(request)
        check_code_page(stat)
        table = self.table(stat)
        if int(request["Reserved"]) != 0 or not request.get("HasTarget"):
            raise Refused(INVALID_PARAMETER)
        target = request["Target"]
        if stat["SortType"] != SORT_DISPLAY_NAMES[0] or int(target["PropertyId"]) != DISPLAY_NAME >> 16 or int(
                target["PropertyType"]) not in (PTYP_STRING, PTYP_STRING8):
            raise Refused(GENERAL_FAILURE)
        wanted = (target["PropertyValue"].get("PropertyValue") or "").casefold()
        explicit = request.get("ExplicitTable") if request.get("HasExplicitTable") else None
        if explicit is not None:
            table = self.explicit_entries(explicit)
            if None in table or any(a.sort_key > b.sort_key for a, b in zip(table, table[1:])):
                raise Refused(INVALID_PARAMETER)  # not a sorted restriction of the container
        index = next((i for i, e in enumerate(table) if e.sort_key >= wanted), None)
        if index is None:
            raise Refused(NOT_FOUND)
        body = {**empty_body("SeekEntries", SUCCESS), "HasState": 1, "State": self.moved(stat, table, index)}
        columns = self.columns(request, "Columns")
        if columns is not None:
            body.update(HasColumnsAndRows=1, **self.row_set(columns, table if explicit is not None else table[index:]))
        return body

    def get_matches(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.5, MS-OXNSPI 3.1.4.1.10 NspiGetMatches: the explicit table of the rows of
        the STAT's table that satisfy Filter (an MS-OXCDATA 2.12 restriction; PidTagAnr matches by ANR,
        3.1.4.7), in table order, with NspiQueryRows' rows for them when columns are given; more than
        RowCount is TableTooBig, a restriction this server does not evaluate TooComplex. Without a
        filter, the values of a link property of the object at CurrentRec: no object is GeneralFailure,
        and this directory has no link properties (NotSupported). On success the STAT's ContainerID
        becomes the input CurrentRec, nothing else changes."""
        stat = self.required_stat(request)
        check_code_page(stat)
        if int(request["Reserved"]) != 0:
            raise Refused(INVALID_PARAMETER)
        if not request.get("HasFilter"):
            raise Refused(NOT_SUPPORTED if self.directory.entry(stat["CurrentRec"]) else GENERAL_FAILURE)
        if stat["SortType"] not in SORT_DISPLAY_NAMES:
            raise Refused(TOO_COMPLEX)
        table = self.table(stat)
        try:
            rows, counters = self.directory.restrictions(), {}  # counters: CountRestriction's (MS-OXCDATA 2.12.12)
            matches = [e for e in table if rows.matches(request["Filter"], e, counters)]
        except TooComplex:
            raise Refused(TOO_COMPLEX) from None
        if len(matches) > min(int(request["RowCount"]), MAX_ROWS):
            raise Refused(TABLE_TOO_BIG)
        body = {**empty_body("GetMatches", SUCCESS), "HasState": 1, "State": {**stat, "ContainerID": stat["CurrentRec"]},
                "HasMinimalIds": 1, "MinimalIds": [e.mid for e in matches]}
        columns = self.columns(request, "Columns")
        if columns is not None:
            body.update(HasColumnsAndRows=1, **self.row_set(columns, matches))
        return body

    # Objects ---------------------------------------------------------------------------------

    def get_props(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.7, MS-OXNSPI 3.1.4.1.7 NspiGetProps: the properties of the object at
        CurrentRec, in the order asked (all it has, as NspiGetPropList lists them, when no tags are
        given). A property without a value comes back as PtypErrorCode NotFound and the call returns
        ErrorsReturned; an unknown object is one without values. fEphID gives PidTagEntryId as an
        Ephemeral Entry ID, else a Permanent one. PtypString8 asked with CP_WINUNICODE is refused."""
        stat = self.required_stat(request)
        self.table(stat)
        columns = self.columns(request, "PropertyTags")
        if stat["CodePage"] == CP_WINUNICODE and any(t & 0xFFFF in (PTYP_STRING8, MV_STRING8) for t in columns or ()):
            raise Refused(INVALID_CODEPAGE)
        entry = self.directory.entry(stat["CurrentRec"])
        if columns is None:
            if entry is None:
                raise Refused(NOT_FOUND)
            columns = narrowed(self.directory.tags(entry))
        ephemeral = bool(int(request["Flags"]) & F_EPH_ID)
        values, code = [], SUCCESS
        for column in columns:
            value = None if entry is None else self.directory.value(entry, column, ephemeral)
            if value is None:
                code = ERRORS_RETURNED
                values.append({"PropertyType": PTYP_ERROR_CODE, "PropertyId": column >> 16,
                               "PropertyValue": {"PropertyValue": NOT_FOUND}})
            else:
                values.append({"PropertyType": value[0], "PropertyId": column >> 16,
                               "PropertyValue": wire_value(*value)})
        return {**empty_body("GetProps", code, stat["CodePage"]), "HasPropertyValues": 1,
                "PropertyValues": {"PropertyValues": values}}

    def get_prop_list(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.6, MS-OXNSPI 3.1.4.1.6 NspiGetPropList: the tags of the properties the
        object has, string ones as PtypString8; fSkipObjects leaves out PtypEmbeddedTable ones (this
        directory has none). A MId of no object is NotFound."""
        entry = self.directory.entry(int(request["MinimalId"]))
        if entry is None:
            raise Refused(NOT_FOUND)
        return {**empty_body("GetPropList", SUCCESS), "HasPropertyTags": 1,
                "PropertyTags": {"PropertyTags": [tag_dict(t) for t in narrowed(self.directory.tags(entry))]}}

    def query_columns(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.13, MS-OXNSPI 3.1.4.1.5 NspiQueryColumns: every property the server knows;
        strings as PtypString with NspiUnicodeProptypes, else PtypString8."""
        tags = self.directory.all_tags()
        tags = tags if int(request["MapiFlags"]) & NSPI_UNICODE_PROPTYPES else narrowed(tags)
        return {**empty_body("QueryColumns", SUCCESS), "HasColumns": 1,
                "Columns": {"PropertyTags": [tag_dict(t) for t in tags]}}

    def get_special_table(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.8, MS-OXNSPI 3.1.4.1.3 NspiGetSpecialTable. The address book hierarchy
        table: one row, the Global Address List (MS-OXOABK 2.2.2), strings as PtypString with
        NspiUnicodeStrings, else 8-bit (CP_WINUNICODE refused); none when the client already holds the
        server's Version; Version set to it. The address creation table (NspiAddressCreationTemplates,
        which wins over NspiUnicodeStrings) is empty: this server keeps no templates."""
        stat = plain_stat(request["State"]) if request.get("HasState") else None
        flags = int(request["Flags"])
        templates = bool(flags & NSPI_ADDRESS_CREATION_TEMPLATES)
        unicode = bool(flags & NSPI_UNICODE_STRINGS) and not templates
        if not unicode and not templates:
            check_code_page(stat)
        code_page = CP_WINUNICODE if unicode else (stat["CodePage"] if stat else CP_WINDOWS_1252)
        body = {**empty_body("GetSpecialTable", SUCCESS, code_page), "HasRows": 1, "Rows": []}
        if templates:
            return body
        body.update(HasVersion=1, Version=HIERARCHY_VERSION)
        if not (request.get("HasVersion") and int(request["Version"]) == HIERARCHY_VERSION):
            body["Rows"] = [{"PropertyValues": self.directory.hierarchy_row(unicode)}]
        return body

    # Names and ids ---------------------------------------------------------------------------

    def dn_to_mid(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.4, MS-OXNSPI 3.1.4.1.13 NspiDNToMId: one MId per DN, in order, 0 for a DN
        of no object."""
        names = request["Names"]["Strings"] if request.get("HasNames") else []
        if len(names) > MAX_ROWS:
            raise Refused(TABLE_TOO_BIG)
        return {**empty_body("DNToMId", SUCCESS), "HasMinimalIds": 1,
                "MinimalIds": [self.directory.mid_of_dn(name) for name in names]}

    def compare_mids(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.3, MS-OXNSPI 3.1.4.1.12 NspiCompareMIds: Result < 0, 0 or > 0 as
        MinimalId1 comes before, at or after MinimalId2 in the STAT's table; a MId not in it is
        GeneralFailure."""
        stat = plain_stat(request["State"]) if request.get("HasState") else None
        check_code_page(stat)
        self.table(stat)
        first = self.directory.index_of(int(request["MinimalId1"]))
        second = self.directory.index_of(int(request["MinimalId2"]))
        if first is None or second is None:
            raise Refused(GENERAL_FAILURE)
        return {**empty_body("CompareMIds", SUCCESS), "Result": (first > second) - (first < second)}

    def resolve_names(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.14, MS-OXNSPI 3.1.4.1.17 NspiResolveNamesW: ANR (3.1.4.7) on every name,
        in order: MID_UNRESOLVED, MID_AMBIGUOUS or the MId of the one object it maps to; then the rows
        NspiQueryRows gives for the resolved MIds (the default columns when none are asked)."""
        stat = plain_stat(request["State"]) if request.get("HasState") else None
        check_code_page(stat)
        self.table(stat)
        if int(request["Reserved"]) != 0:
            raise Refused(INVALID_PARAMETER)
        code_page = stat["CodePage"] if stat else CP_WINDOWS_1252  # of the 8-bit strings in the rows
        if not request.get("HasNames"):
            return empty_body("ResolveNames", SUCCESS, code_page)
        names = request["NameValues"]
        if len(names) > MAX_ROWS:
            raise Refused(TABLE_TOO_BIG)
        results = [self.directory.anr(name) for name in names]
        mids = [r.entries[0].mid if r.resolved else (MID_AMBIGUOUS if r.entries else MID_UNRESOLVED)
                for r in results]
        resolved = [r.entries[0] for r in results if r.resolved]
        columns = self.columns(request, "PropertyTags") or DEFAULT_COLUMNS
        rows = self.row_set(columns, resolved)
        return {**empty_body("ResolveNames", SUCCESS, code_page), "HasMinimalIds": 1, "MinimalIds": mids,
                "HasRowsAndCols": 1, "PropertyTags": rows["Columns"], "RowData": rows["RowData"]}

    # URLs ------------------------------------------------------------------------------------

    def get_mailbox_url(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.18 GetMailboxUrl: the mailbox endpoint URL of the server in ServerDn."""
        return {**empty_body("GetMailboxUrl", SUCCESS), "ServerUrl": self.mailbox_url}

    def get_address_book_url(self, request: dict) -> dict:
        """MS-OXCMAPIHTTP 2.2.5.19 GetAddressBookUrl: the address book endpoint URL for UserDn."""
        return {**empty_body("GetAddressBookUrl", SUCCESS), "ServerUrl": self.addressbook_url}


