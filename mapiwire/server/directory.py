"""The address book the NSPI endpoint serves: the Store's users as Address Book objects (MS-OXOABK 2.2),
in one Global Address List sorted by display name, with the session's Minimal Entry IDs, ANR
(MS-OXNSPI 3.1.4.7) and restriction evaluation (MS-OXCDATA 2.12) over their properties.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..dissect.defs.addressbook import EphemeralEntryID, PermanentEntryID
from ..dissect.defs.core import build
from ..dissect.defs.props import PROPERTY_NAMES, PROPERTY_TYPES_OF
from .restrictions import Rows
from .store import MISSING

GUID_NSPI = uuid.UUID("c840a7dc-42c0-1a10-b4b9-08002b2fe182")  # MS-OXNSPI 2.2.9.3 ProviderUID of permanent IDs
PTYP_UNSPECIFIED, PTYP_STRING8, PTYP_STRING = 0x0000, 0x001E, 0x001F
MV_STRING8, MV_STRING = 0x101E, 0x101F
MAPI_MAILUSER = 0x00000006  # MS-OXOABK 2.2.3.10 PidTagObjectType
DT_MAILUSER, DT_CONTAINER = 0x00000000, 0x00000100  # MS-OXOABK 2.2.3.11 PidTagDisplayType
AB_RECIPIENTS, AB_UNMODIFIABLE = 0x00000001, 0x00000008  # MS-OXOABK 2.2.2.1 PidTagContainerFlags
GAL_NAME, GAL_DN = "Global Address List", "/"  # MS-OXNSPI 2.2.9.3: the GAL's permanent ID names "/"

_NAMES = {name: pid for pid, name in PROPERTY_NAMES.items()}


def pid(name: str) -> int:
    """The property id of an MS-OXPROPS PidTag name."""
    return _NAMES[name]


def tag(name: str) -> int:
    """The 32-bit property tag of an MS-OXPROPS PidTag name, with its canonical type."""
    return (pid(name) << 16) | PROPERTY_TYPES_OF[pid(name)]


ENTRY_ID, INSTANCE_KEY, ANR = tag("PidTagEntryId"), tag("PidTagInstanceKey"), pid("PidTagAnr")

# fixture user keys (User.extra) -> the MS-OXOABK property that carries them
EXTRA_PROPERTIES = {
    "title": "PidTagTitle", "department": "PidTagDepartmentName", "phone": "PidTagBusinessTelephoneNumber",
    "office": "PidTagOfficeLocation", "company": "PidTagCompanyName", "mobile": "PidTagMobileTelephoneNumber",
    "given_name": "PidTagGivenName", "surname": "PidTagSurname",
}


def string8(text: str) -> str:
    """A Unicode string as an 8-bit string (latin-1, what the String8 codec writes; MS-OXNSPI 3.1.4.3)."""
    return text.encode("latin-1", "replace").decode("latin-1")


def convert(value, stored: int, wanted: int):
    """(type, value) of a stored value in the type the client asked for: the same type, PtypUnspecified
    (the stored type), or a string in the other width (MS-OXNSPI 3.1.4.3); None when they do not fit."""
    if wanted in (stored, PTYP_UNSPECIFIED):
        return stored, value
    if (stored, wanted) == (PTYP_STRING, PTYP_STRING8):
        return wanted, string8(value)
    if (stored, wanted) == (MV_STRING, MV_STRING8):
        return wanted, [string8(v) for v in value]
    return None


@dataclass(frozen=True)
class Profile:
    """One Address Book object (MS-OXOABK 2.2) as every session sees it: DN, display name, stored
    properties (property id -> (canonical type, value)) and the strings ANR compares."""

    dn: str
    display_name: str
    props: dict[int, tuple[int, object]]
    words: tuple[str, ...]  # casefolded strings ANR matches by prefix
    exact: tuple[str, ...]  # casefolded strings ANR matches whole
    sort_key: str


class Entry:
    """A Profile at its row of one session's table, with that session's MId (MS-OXNSPI 2.2.9.1)."""

    __slots__ = ("mid", "profile")

    def __init__(self, mid: int, profile: Profile):
        self.mid, self.profile = mid, profile

    def __eq__(self, other):
        return isinstance(other, Entry) and (self.mid, self.profile) == (other.mid, other.profile)

    __hash__ = None

    @property
    def sort_key(self) -> str:
        return self.profile.sort_key


@dataclass
class AnrResult:
    """MS-OXNSPI 3.1.4.7: the objects a string maps to; resolved when exactly one stands out."""

    entries: list[Entry]
    resolved: bool


def user_profile(user) -> Profile:
    """The MS-OXOABK properties of a mail user (2.2.3 common, 2.2.4 mail user) from a Store user."""
    extra = getattr(user, "extra", None) or {}
    strings = {"PidTagDisplayName": user.display_name, "PidTagTransmittableDisplayName": user.display_name,
               "PidTagEmailAddress": user.dn, "PidTagAddressType": "EX", "PidTagSmtpAddress": user.smtp,
               "PidTagAccount": user.alias}
    for key, name in EXTRA_PROPERTIES.items():
        if isinstance(extra.get(key), str):
            strings[name] = extra[key]
    props = {pid(name): (PTYP_STRING, value) for name, value in strings.items()}
    props[pid("PidTagAddressBookProxyAddresses")] = (MV_STRING, ["SMTP:" + user.smtp, "X500:" + user.dn])
    props[pid("PidTagObjectType")] = (0x0003, MAPI_MAILUSER)
    props[pid("PidTagDisplayType")] = (0x0003, DT_MAILUSER)
    props[pid("PidTagDisplayTypeEx")] = (0x0003, DT_MAILUSER)
    props[pid("PidTagAddressBookContainerId")] = (0x0003, 0)
    props[pid("PidTagSearchKey")] = (0x0102, b"EX:" + user.dn.upper().encode("ascii", "replace") + b"\0")
    names = [user.display_name, *user.display_name.split(), user.alias, user.smtp,
             *(extra.get(k) for k in ("given_name", "surname") if isinstance(extra.get(k), str))]
    exact = [user.alias, user.smtp, "smtp:" + user.smtp, user.dn, user.display_name]
    return Profile(user.dn, user.display_name, props, tuple(n.casefold() for n in names if n),
                   tuple(n.casefold() for n in exact), user.display_name.casefold())


class Catalog:
    """The Global Address List's rows in display-name order (SortTypeDisplayName), shared by every
    session over the same users."""

    def __init__(self, users):
        ordered = sorted(users, key=lambda u: (u.display_name.casefold(), u.alias.casefold()))
        self.profiles = [user_profile(user) for user in ordered]
        self.row_of_dn = {p.dn.casefold(): i for i, p in enumerate(self.profiles)}
        tags: dict[int, None] = {ENTRY_ID: None, INSTANCE_KEY: None}
        for profile in self.profiles:
            tags.update(dict.fromkeys((p << 16) | t for p, (t, _) in profile.props.items()))
        self.all_tags = list(tags)


_CATALOGS: dict[tuple, Catalog] = {}
MAX_CATALOGS = 8


def catalog(users) -> Catalog:
    """The Catalog of these users, built once for every session that shows the same ones."""
    key = tuple((u.alias, u.display_name, u.smtp, u.dn, repr(sorted((getattr(u, "extra", None) or {}).items(), key=str)))
                for u in users)
    found = _CATALOGS.get(key)
    if found is None:
        while len(_CATALOGS) >= MAX_CATALOGS:
            _CATALOGS.pop(next(iter(_CATALOGS)))
        found = _CATALOGS[key] = Catalog(users)
    return found


class Directory:
    """The Global Address List of one session: the shared Catalog, row i having MId `base` + i."""

    def __init__(self, users, server_guid: uuid.UUID, base: int):
        self.catalog = catalog(users)
        self.server_guid = server_guid
        self.base = base

    def entries(self) -> list[Entry]:
        return [Entry(self.base + i, p) for i, p in enumerate(self.catalog.profiles)]

    def index_of(self, mid: int) -> int | None:
        row = mid - self.base
        return row if 0 <= row < len(self.catalog.profiles) else None

    def entry(self, mid: int) -> Entry | None:
        """The object of a MId of this session, or None."""
        row = self.index_of(mid)
        return None if row is None else Entry(mid, self.catalog.profiles[row])

    def mid_of_dn(self, dn: str) -> int:
        """MS-OXNSPI 3.1.4.1.13: the MId of a DN, 0 when there is no such object."""
        row = self.catalog.row_of_dn.get(dn.casefold())
        return 0 if row is None else self.base + row

    def entry_id(self, entry: Entry, ephemeral: bool) -> bytes:
        """PidTagEntryId: an EphemeralEntryID (MS-OXNSPI 2.2.9.2, this server's GUID and the MId) or a
        PermanentEntryID (2.2.9.3, GUID_NSPI and the DN)."""
        if ephemeral:
            return build(EphemeralEntryID, {"IDType": 0x87, "R1": 0, "R2": 0, "R3": 0, "ProviderUID": self.server_guid,
                                            "R4": 1, "DisplayType": DT_MAILUSER, "MId": entry.mid})
        return build(PermanentEntryID, {"IDType": 0, "R1": 0, "R2": 0, "R3": 0, "ProviderUID": GUID_NSPI, "R4": 1,
                                        "DisplayTypeString": DT_MAILUSER, "DistinguishedName": entry.profile.dn})

    def value(self, entry: Entry, column: int, ephemeral: bool = False):
        """(type, value) of property tag `column` on `entry` in the asked type, or None."""
        property_id, wanted = column >> 16, column & 0xFFFF
        if property_id == ENTRY_ID >> 16:
            stored = (0x0102, self.entry_id(entry, ephemeral))
        elif property_id == INSTANCE_KEY >> 16:
            stored = (0x0102, entry.mid.to_bytes(4, "little"))  # MS-OXOABK 2.2.3.6: the MId
        else:
            stored = entry.profile.props.get(property_id)
        return None if stored is None else convert(stored[1], stored[0], wanted)

    @staticmethod
    def tags(entry: Entry) -> list[int]:
        """The tags of every property `entry` has, with their stored types."""
        return [ENTRY_ID, INSTANCE_KEY] + [(p << 16) | t for p, (t, _) in entry.profile.props.items()]

    def all_tags(self) -> list[int]:
        """Every tag some entry has, first seen first."""
        return list(self.catalog.all_tags)

    def hierarchy_row(self, unicode: bool) -> list[dict]:
        """The Global Address List's row of the address book hierarchy table (MS-OXNSPI 3.1.4.1.3,
        MS-OXOABK 2.2.2): an AddressBookPropertyValueList."""
        entry_id = build(PermanentEntryID, {"IDType": 0, "R1": 0, "R2": 0, "R3": 0, "ProviderUID": GUID_NSPI, "R4": 1,
                                            "DisplayTypeString": DT_CONTAINER, "DistinguishedName": GAL_DN})
        name_type = PTYP_STRING if unicode else PTYP_STRING8
        values = [(ENTRY_ID, entry_id), (tag("PidTagContainerFlags"), AB_RECIPIENTS | AB_UNMODIFIABLE),
                  (tag("PidTagDepth"), 0), (tag("PidTagAddressBookContainerId"), 0),
                  ((pid("PidTagDisplayName") << 16) | name_type, GAL_NAME), (tag("PidTagAddressBookIsMaster"), False)]
        return [{"PropertyType": t & 0xFFFF, "PropertyId": t >> 16, "PropertyValue": {"PropertyValue": v}}
                for t, v in values]

    # MS-OXNSPI 3.1.4.7 ANR -----------------------------------------------------------------

    def anr(self, text: str | None) -> AnrResult:
        """This server's ANR policy: a string equal to an alias, SMTP address (with or without "SMTP:"),
        DN or display name picks that object; otherwise every object with a name, a word of its
        display name, alias or address that starts with the string. NULL or empty maps to nothing."""
        wanted = (text or "").strip().casefold()
        if not wanted:
            return AnrResult([], False)
        entries = self.entries()
        exact = [e for e in entries if wanted in e.profile.exact]
        if exact:
            return AnrResult(exact, len(exact) == 1)
        found = [e for e in entries if any(w.startswith(wanted) for w in e.profile.words)]
        return AnrResult(found, len(found) == 1)

    # MS-OXCDATA 2.12 restrictions (server/restrictions.py) ---------------------------------

    def restrictions(self) -> Entries:
        """The evaluator of restrictions over this address book's entries, for one evaluation."""
        return Entries(self)


class Entries(Rows):
    """The address book's entries as rows: a value in the type its tag asks for (MS-OXNSPI
    3.1.4.3), PidTagAnr resolved by ANR (the objects the string maps to, MS-OXNSPI 3.1.4.7; each
    string resolved once per evaluation), no subobjects."""

    resolves_anr = True

    def __init__(self, directory: Directory):
        self.directory = directory
        self.resolved: dict[str, list[Entry]] = {}

    def value(self, row: Entry, tag: int):
        found = self.directory.value(row, tag)
        return MISSING if found is None else found[1]

    def anr(self, row: Entry, wanted) -> bool:
        if not isinstance(wanted, str):
            return False
        if wanted not in self.resolved:
            self.resolved[wanted] = self.directory.anr(wanted).entries
        return row in self.resolved[wanted]
