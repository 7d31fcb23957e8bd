"""Exception root of the package (STYLE.md 3.4: h11's Local/Remote split)."""


class MapiwireError(Exception):
    """Root of every mapiwire exception."""


class MalformedError(MapiwireError):
    """Bytes from the wire do not fit the structure they claim to be."""

    def __init__(self, what: str, where: str = "", offset: int | None = None):
        super().__init__(what)
        self.what = what
        self.where = where
        self.offset = offset

    def as_record(self) -> dict:
        """The `errors` entry of the JSON contract."""
        entry = {"where": self.where, "error": self.what}
        if self.offset is not None:
            entry["offset"] = self.offset
        return entry


class UsageError(MapiwireError):
    """The API or the command line was used the wrong way."""
