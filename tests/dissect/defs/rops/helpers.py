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
