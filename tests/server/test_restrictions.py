"""The one restriction evaluator (MS-OXCDATA 2.12) the mailbox tables and the address book share:
restrictions built to wire bytes and parsed back by the definitions, evaluated over plain rows."""

import pytest
from hypothesis import given, strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.oxcdata import RESTRICTIONS
from mapiwire.server.restrictions import Rows, TooComplex, compare, value_size
from mapiwire.server.store import MISSING

SUBJECT, SIZE, FLAGS, KEYWORDS, ANR, NAME8 = 0x0037001F, 0x0E080003, 0x0E070003, 0x8000101F, 0x360C001F, 0x3001001E
RECIPIENTS = 0x0E12000D


class Dicts(Rows):
    """Rows that are dicts of tag -> value; "recipients" holds a row's subobjects."""

    def value(self, row, tag):
        return row.get(tag, MISSING)

    def subobjects(self, row, tag):
        return row.get("recipients", []) if tag == RECIPIENTS else []


class Named(Dicts):
    """Rows that resolve PidTagAnr: a row is one of the objects a string maps to when its subject
    starts with it."""

    resolves_anr = True

    def anr(self, row, wanted):
        return isinstance(wanted, str) and row[SUBJECT].casefold().startswith(wanted.casefold())


ROWS = [
    {SUBJECT: "Quarterly report", SIZE: 4000, FLAGS: 0x01, KEYWORDS: ["Finance", "Q3"],
     "recipients": [{0x39FE001F: "bob@example.test"}]},
    {SUBJECT: "lunch on Friday?", SIZE: 300, FLAGS: 0x00, "recipients": []},
    {SUBJECT: "RE: lunch on Friday?", SIZE: 500, FLAGS: 0x03},
]


def tag(value):
    return {"PropertyType": value & 0xFFFF, "PropertyId": value >> 16}


def wire(restriction):
    """The restriction as a client sends it (a RopRestrict's 2-byte counts), parsed back."""
    return parse(RESTRICTIONS[2], build(RESTRICTIONS[2], restriction))


def content(text, low=0x0001, high=0x0001, property_tag=SUBJECT):
    return {"RestrictType": 0x03, "FuzzyLevelLow": low, "FuzzyLevelHigh": high, "PropertyTag": tag(property_tag),
            "TaggedValue": {"PropertyTag": tag(property_tag & ~0x1000), "PropertyValue": text}}


def prop(relop, property_tag, value):
    return {"RestrictType": 0x04, "RelOp": relop, "PropTag": tag(property_tag),
            "TaggedValue": {"PropertyTag": tag(property_tag & ~0x1000), "PropertyValue": value}}


def matching(restriction, kind=Dicts()):
    counters = {}
    parsed = wire(restriction)
    return [row[SUBJECT] for row in ROWS if kind.matches(parsed, row, counters)]


@pytest.mark.parametrize("restriction, expected", [
    (content("LUNCH"), ["lunch on Friday?", "RE: lunch on Friday?"]),
    (content("LUNCH", high=0), []),  # case matters without FL_IGNORECASE
    (content("lunch", low=0x0002), ["lunch on Friday?"]),  # FL_PREFIX
    (content("re: lunch on friday?", low=0x0000), ["RE: lunch on Friday?"]),  # FL_FULLSTRING
    (content("q3", low=0x0000, property_tag=KEYWORDS), ["Quarterly report"]),  # one value of a multi-valued one
    (prop(0x02, SIZE, 400), ["Quarterly report", "RE: lunch on Friday?"]),  # RELOP_GT
    (prop(0x05, SIZE, 300), ["Quarterly report", "RE: lunch on Friday?"]),  # RELOP_NE
    (prop(0x04, KEYWORDS, "finance"), ["Quarterly report"]),  # equal without case, any value
    (prop(0x64, SIZE, 300), []),  # RELOP_MEMBER_OF_DL: no distribution lists
    ({"RestrictType": 0x05, "RelOp": 0x01, "PropTag1": tag(FLAGS), "PropTag2": tag(SIZE)},
     ["Quarterly report", "lunch on Friday?", "RE: lunch on Friday?"]),
    ({"RestrictType": 0x06, "BitmapRelOp": 0x00, "PropTag": tag(FLAGS), "Mask": 0x02},
     ["Quarterly report", "lunch on Friday?"]),
    ({"RestrictType": 0x06, "BitmapRelOp": 0x01, "PropTag": tag(FLAGS), "Mask": 0x02}, ["RE: lunch on Friday?"]),
    ({"RestrictType": 0x07, "RelOp": 0x02, "PropTag": tag(SUBJECT), "Size": 36},  # 34, 34 and 42 bytes
     ["RE: lunch on Friday?"]),
    ({"RestrictType": 0x08, "PropTag": tag(KEYWORDS)}, ["Quarterly report"]),
    ({"RestrictType": 0x09, "Subobject": tag(RECIPIENTS), "Restriction": content("bob", low=0x0002,
                                                                                  property_tag=0x39FE001F)},
     ["Quarterly report"]),
    ({"RestrictType": 0x0A, "TaggedValues": [{"PropertyTag": tag(SUBJECT), "PropertyValue": "note"}],
      "RestrictionPresent": 1, "Restriction": content("report")}, ["Quarterly report"]),
    ({"RestrictType": 0x0B, "Count": 1, "SubRestriction": content("lunch")}, ["lunch on Friday?"]),
    ({"RestrictType": 0x00, "Restricts": [content("lunch"), prop(0x00, SIZE, 400)]}, ["lunch on Friday?"]),
    ({"RestrictType": 0x01, "Restricts": [content("report"), prop(0x04, FLAGS, 3)]},
     ["Quarterly report", "RE: lunch on Friday?"]),
    ({"RestrictType": 0x02, "Restriction": content("lunch")}, ["Quarterly report"]),
])
def test_each_restriction_type_from_the_wire(restriction, expected):
    assert matching(restriction) == expected


def test_anr_where_the_rows_resolve_it():
    by_anr = prop(0x04, ANR, "lunch")
    assert matching(by_anr, Named()) == ["lunch on Friday?"]
    assert matching(content("re", property_tag=ANR), Named()) == ["RE: lunch on Friday?"]
    assert matching({"RestrictType": 0x08, "PropTag": tag(ANR)}, Named()) == [row[SUBJECT] for row in ROWS]
    assert matching(by_anr) == []  # elsewhere PidTagAnr is an ordinary property, which no row has


def test_what_is_too_complex():
    with pytest.raises(TooComplex):
        matching(prop(0x06, SUBJECT, "lun.h"))  # RELOP_RE: no regular expressions from the wire
    with pytest.raises(TooComplex):  # rows without subobjects
        Rows().subobjects(ROWS[0], RECIPIENTS)
    with pytest.raises(TooComplex):
        Dicts().matches({"RestrictType": 0x0C}, ROWS[0])
    assert TooComplex().code == 0x80040117  # ecTooComplex (MS-OXCDATA 2.4.1), NSPI's TooComplex too


@pytest.mark.parametrize("property_tag, value, size", [
    (SUBJECT, "lunch", 12), (NAME8, "lunch", 6), (0x1000001F, "\U0001F600", 6),  # a surrogate pair
    (FLAGS, 7, 4), (0x0E140014, 7, 8), (0x0E1B000B, True, 1), (0x00400040, 0, 8),
    (0x0102, b"abc", 3), (KEYWORDS, ["ab", "c"], 10), (0x68001003, [1, 2], 8),
])
def test_value_size(property_tag, value, size):
    assert value_size(property_tag, value) == size


@given(st.one_of(st.integers(-2**63, 2**64), st.text(max_size=8), st.binary(max_size=8), st.none()),
       st.one_of(st.integers(-2**63, 2**64), st.text(max_size=8), st.binary(max_size=8)))
def test_relops_are_a_total_order_per_kind(a, b):
    if a is None:
        a = MISSING
    results = {relop: compare(relop, a, b) for relop in range(6)}
    if a is MISSING:
        assert not any(results.values())
        return
    lt, le, gt, ge, eq, ne = (results[r] for r in range(6))
    assert eq != ne and le == (lt or eq) and ge == (gt or eq) and not (lt and gt)
