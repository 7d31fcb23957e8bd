"""MS-OXCDATA 2.12 restrictions, evaluated by one evaluator over any kind of row: a mailbox table's
rows (MS-OXCTABL 3.2.5.4 RopRestrict, 3.2.5.15 RopFindRow) and the address book's entries
(MS-OXNSPI 3.1.4.1.10 NspiGetMatches). A kind of row says how a row gives a property's value, its
subobjects, and whether it resolves PidTagAnr (MS-OXNSPI 3.1.4.7); the rest is the same for all.
"""

from __future__ import annotations

import struct

from ..dissect.defs.oxcdata import tag_value, value_layouts
from ..dissect.defs.proptypes import MULTI_VALUE_FLAG, MULTI_VALUE_INSTANCE
from .store import MISSING

TOO_COMPLEX = 0x80040117  # MS-OXCDATA 2.4.1 ecTooComplex; MS-OXNSPI 2.2.1.2 TooComplex
PID_TAG_ANR = 0x360C  # MS-OXPROPS PidTagAnr
PT_STRING8 = 0x001E
# MS-OXCDATA 2.12.4.1 FuzzyLevelLow / FuzzyLevelHigh, 2.12.5.1 RelOp, 2.12.8.1 BitmapRelOp
FL_FULLSTRING, FL_SUBSTRING, FL_PREFIX = 0x0000, 0x0001, 0x0002
FL_IGNORECASE, FL_IGNORENONSPACE, FL_LOOSE = 0x0001, 0x0002, 0x0004
RELOP_LT, RELOP_LE, RELOP_GT, RELOP_GE, RELOP_EQ, RELOP_NE, RELOP_RE = range(7)
RELOP_MEMBER_OF_DL = 0x64
BMR_EQZ = 0x00
_LAYOUTS = value_layouts()


class TooComplex(Exception):
    """A restriction this server does not evaluate: ecTooComplex (MS-OXCTABL 3.2.5.4) or
    TooComplex (MS-OXNSPI 2.2.1.2), the same value."""

    code = TOO_COMPLEX


class Rows:
    """One kind of row. `value` is what a kind must give; by default a row has no subobjects and
    PidTagAnr is an ordinary property (`resolves_anr` False)."""

    resolves_anr = False

    def value(self, row, tag: int):
        """The value of property tag `tag` on `row`, or MISSING."""
        raise NotImplementedError

    def subobjects(self, row, tag: int) -> list:
        """The rows of a SubObjectRestriction's subobject (MS-OXCDATA 2.12.10)."""
        raise TooComplex(f"SubObjectRestriction on {tag:#010x}")

    def anr(self, row, wanted) -> bool:
        """Whether `row` is one of the objects `wanted` resolves to (MS-OXNSPI 3.1.4.7), where
        `resolves_anr`."""
        raise NotImplementedError

    def matches(self, restriction, row, counters: dict | None = None) -> bool:
        """Whether `row` satisfies a parsed restriction. `counters` carries CountRestriction's
        counts over the rows of one evaluation (pass the same dict for each row)."""
        counters = {} if counters is None else counters
        kind = int(restriction["RestrictType"])
        if kind == 0x00:  # 2.12.1 AndRestriction
            return all(self.matches(r, row, counters) for r in restriction["Restricts"])
        if kind == 0x01:  # 2.12.2 OrRestriction
            return any(self.matches(r, row, counters) for r in restriction["Restricts"])
        if kind == 0x02:  # 2.12.3 NotRestriction
            return not self.matches(restriction["Restriction"], row, counters)
        if kind == 0x03:  # 2.12.4 ContentRestriction
            return self._content(restriction, row)
        if kind == 0x04:  # 2.12.5 PropertyRestriction
            tag = tag_value(restriction["PropTag"])
            wanted = restriction["TaggedValue"]["PropertyValue"]
            if tag >> 16 == PID_TAG_ANR and self.resolves_anr:
                return self.anr(row, wanted)
            return compare(int(restriction["RelOp"]), self.value(row, tag), wanted)
        if kind == 0x05:  # 2.12.6 ComparePropertiesRestriction
            return compare(int(restriction["RelOp"]), self.value(row, tag_value(restriction["PropTag1"])),
                           self.value(row, tag_value(restriction["PropTag2"])))
        if kind == 0x06:  # 2.12.8 BitMaskRestriction
            value = self.value(row, tag_value(restriction["PropTag"]))
            if not isinstance(value, int):
                return False
            masked = value & int(restriction["Mask"])
            return masked == 0 if int(restriction["BitmapRelOp"]) == BMR_EQZ else masked != 0
        if kind == 0x07:  # 2.12.7 SizeRestriction
            tag = tag_value(restriction["PropTag"])
            value = self.value(row, tag)
            return value is not MISSING and compare(int(restriction["RelOp"]), value_size(tag, value),
                                                    int(restriction["Size"]))
        if kind == 0x08:  # 2.12.9 ExistRestriction
            tag = tag_value(restriction["PropTag"])
            return (tag >> 16 == PID_TAG_ANR and self.resolves_anr) or self.value(row, tag) is not MISSING
        if kind == 0x09:  # 2.12.10 SubObjectRestriction
            return any(self.matches(restriction["Restriction"], sub, counters)
                       for sub in self.subobjects(row, tag_value(restriction["Subobject"])))
        if kind == 0x0A:  # 2.12.11 CommentRestriction
            inner = restriction.get("Restriction")
            return True if inner is None else self.matches(inner, row, counters)
        if kind == 0x0B:  # 2.12.12 CountRestriction: the first Count rows the subrestriction matches
            key = id(restriction)
            if counters.get(key, 0) >= int(restriction["Count"]):
                return False
            if self.matches(restriction["SubRestriction"], row, counters):
                counters[key] = counters.get(key, 0) + 1
                return True
            return False
        raise TooComplex(f"RestrictType {kind:#04x}")

    def _content(self, restriction, row) -> bool:
        """2.12.4: a string or binary value that equals, contains or starts with the given one;
        FL_IGNORECASE, FL_IGNORENONSPACE and FL_LOOSE compare strings without case; a multi-valued
        property matches when one of its values does."""
        tag = tag_value(restriction["PropertyTag"])
        wanted = restriction["TaggedValue"]["PropertyValue"]
        if tag >> 16 == PID_TAG_ANR and self.resolves_anr:
            return self.anr(row, wanted)
        value = self.value(row, tag)
        if value is MISSING:
            return False
        low, high = int(restriction["FuzzyLevelLow"]), int(restriction["FuzzyLevelHigh"])
        fold = isinstance(wanted, str) and high & (FL_IGNORECASE | FL_IGNORENONSPACE | FL_LOOSE)
        if fold:
            wanted = wanted.casefold()
        for candidate in value if isinstance(value, list) else [value]:
            if not (isinstance(candidate, str) and isinstance(wanted, str)) and not (
                    isinstance(candidate, (bytes, bytearray)) and isinstance(wanted, (bytes, bytearray))):
                continue
            if fold:
                candidate = candidate.casefold()
            if (low == FL_SUBSTRING and wanted in candidate) or (low == FL_PREFIX and candidate.startswith(wanted)) or (
                    low == FL_FULLSTRING and candidate == wanted):
                return True
        return False


def compare(relop: int, value, wanted) -> bool:
    """MS-OXCDATA 2.12.5.1 RelOp on two values: values of one kind in sort order (strings without
    case); values of different kinds are only unequal; a multi-valued property compares when one of
    its values does. RELOP_MEMBER_OF_DL is false (no distribution lists here); RELOP_RE, a regular
    expression, is not evaluated (TooComplex)."""
    if relop == RELOP_RE:
        raise TooComplex("RELOP_RE")
    if relop == RELOP_MEMBER_OF_DL or value is MISSING or wanted is MISSING:
        return False
    if isinstance(value, list):
        return any(compare(relop, v, wanted) for v in value)
    a, b = sort_key(value), sort_key(wanted)
    if a[0] != b[0]:
        return relop == RELOP_NE
    try:
        return {RELOP_LT: a < b, RELOP_LE: a <= b, RELOP_GT: a > b, RELOP_GE: a >= b, RELOP_EQ: a == b,
                RELOP_NE: a != b}[relop]
    except KeyError:
        raise TooComplex(f"RelOp {relop:#04x}") from None


def sort_key(value):
    """Values of mixed kinds in one order (MS-OXCDATA 2.13 sorts, 2.12.5.1 compares): missing first,
    then numbers, strings (without case), bytes."""
    if value is MISSING or value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value.casefold())
    if isinstance(value, (bytes, bytearray)):
        return (3, bytes(value))
    if isinstance(value, list):
        return (4, tuple(sort_key(v) for v in value))
    return (5, str(value))


def value_size(tag: int, value) -> int:
    """What a SizeRestriction compares (MS-OXCDATA 2.12.7): the value's size in bytes, a string's
    with its terminating null, a multi-valued property's the sum of its values'; a fixed-size
    type's size comes from its value layout (MS-OXCDATA 2.11.1)."""
    single = tag & 0xFFFF & ~(MULTI_VALUE_FLAG | MULTI_VALUE_INSTANCE)
    if isinstance(value, str):
        return len(value) + 1 if single == PT_STRING8 else len(value.encode("utf-16-le", "surrogatepass")) + 2
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, list):
        return sum(value_size(single, v) for v in value)
    kind, argument = _LAYOUTS.get(single, ("scalar", ("<I", None)))
    if kind == "scalar":
        return struct.calcsize(argument[0])
    return {"boolean": 1, "guid": 16, "error": 4}.get(kind, 4)
