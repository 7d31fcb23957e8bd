"""What the ROP test modules share."""


def field(value, path: str):
    """`value` at a dotted path: "RowData.0.ValueArray[1].PropertyValue"; a last `.name` or
    `.names` reads an Enum's or a Flags' names."""
    for part in path.split("."):
        name, _, index = part.partition("[")
        if name in ("name", "names"):
            value = getattr(value, name)
        elif name.isdigit():
            value = value[int(name)]
        elif name:
            value = value[name]
        if index:
            value = value[int(index[:-1])]
    return value


def only_construct_errors(definition, data: bytes, **params) -> None:
    """Parsing `data` gives a value or a ConstructError, nothing else."""
    import construct as c

    from mapiwire.dissect.defs.core import parse

    try:
        parse(definition, data, **params)
    except c.ConstructError:
        pass


def mutated_vector_decodes(definition, data: bytes, **params) -> None:
    """A mutated vector: alone it parses or raises a ConstructError; inside a RopsList it is
    decoded or kept as an errors entry, without an exception."""
    from mapiwire.dissect.defs.core import parse
    from mapiwire.dissect.defs.ropbuffer import RopList

    only_construct_errors(definition, data, **params)
    direction = "response" if "Response" in definition.docs else "request"
    parse(RopList(direction), data, errors=[], request_rops=[])


def malformed_after_a_good_rop(good_hex: str, good_name: str, bad_hex: str) -> None:
    """A malformed request after a good one: the good one decodes, the bad one becomes an
    `Undecoded` item with one errors entry, and the list builds back to the same bytes."""
    from mapiwire.dissect.defs.core import build, parse
    from mapiwire.dissect.defs.ropbuffer import RopList

    data = bytes.fromhex((good_hex + bad_hex).replace(" ", ""))
    errors = []
    rops = parse(RopList("request"), data, errors=errors)
    assert rops[0].RopName == good_name
    assert rops[1].Undecoded == bytes.fromhex(bad_hex.replace(" ", "")) and len(errors) == 1
    assert build(RopList("request"), rops) == data
