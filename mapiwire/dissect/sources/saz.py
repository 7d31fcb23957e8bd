"""Fiddler Session Archive (SAZ) in, `Exchange`s out.

A SAZ file is a zip (Fiddler documentation, "Fiddler Archives (SAZ)"): per session `raw/NN_c.txt`
(the request as the client sent it), `raw/NN_s.txt` (the response as the server sent it: chunked
if it was, unless Fiddler decoded it and fixed the headers) and `raw/NN_m.xml` (metadata:
`SessionTimers` with .NET dates, `SessionFlags` such as x-clientip, x-clientport, x-hostip).
The raw messages go through `HttpParser`, like captured TCP streams. Proxy-form targets
("POST https://host/mapi/...") become origin-form ("/mapi/..."); CONNECT tunnel sessions
are skipped. Zip members are read with bounded sizes and count (zip bombs).
"""

from __future__ import annotations

import datetime
import os
import re
import zipfile
import zlib
from typing import BinaryIO, Iterator
from urllib.parse import urlsplit
from xml.etree import ElementTree

from ...errors import MalformedError
from ..exchange import Exchange, HttpMessage
from .http import MAX_BODY, HttpParser

__all__ = ["MAX_MEMBERS", "MAX_MEMBER_SIZE", "MAX_TOTAL", "read_exchanges"]

MAX_MEMBERS = 300_000  # zip entries (three per session)
MAX_MEMBER_SIZE = MAX_BODY + 16 * 1024 * 1024  # uncompressed bytes of one raw message
MAX_META_SIZE = 1024 * 1024
_CHUNK = 1024 * 1024  # bytes of a raw message fed to the HTTP parser at a time
MAX_TOTAL = 16 * 1024 ** 3  # uncompressed bytes read from one archive
_MEMBER = re.compile(r"raw[/\\](\d{1,9})_([csm])\.(?:txt|xml)", re.IGNORECASE)
_UNSET = "0001-01-01"  # .NET DateTime.MinValue: a timer that never fired
_LAST_SECOND = 253402300799.0  # 9999-12-31T23:59:59Z: later times cannot be printed
# Timers, best first: (request start, request end, response start, response end).
_TIMERS = (("ClientBeginRequest", "GotRequestHeaders", "ClientConnected"),
           ("ClientDoneRequest",),
           ("ServerBeginResponse", "GotResponseHeaders", "ClientBeginResponse"),
           ("ServerDoneResponse", "ClientDoneResponse"))


def read_exchanges(source: str | os.PathLike | BinaryIO, *, max_total: int = MAX_TOTAL
                   ) -> Iterator[Exchange]:
    """The exchanges of a SAZ file (a path or a binary file object), in session order.

    An unreadable archive (not a zip, truncated, encrypted, too many members) raises
    `MalformedError` at once; a damaged session becomes an exchange with `errors`.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise MalformedError(f"not a SAZ archive (damaged, truncated or not a zip): {exc}",
                             where="saz") from None
    except OSError as exc:
        name = os.fsdecode(source) if isinstance(source, (str, bytes, os.PathLike)) else "it"
        raise MalformedError(f"cannot read {name}: {exc.strerror or exc}", where="file") from None
    try:
        sessions = _sessions(archive)
    except BaseException:
        archive.close()
        raise
    return _exchanges(archive, sessions, max_total)


def _sessions(archive: zipfile.ZipFile) -> dict[int, dict[str, zipfile.ZipInfo]]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise MalformedError(f"SAZ archive with {len(infos)} members, more than the "
                             f"{MAX_MEMBERS} accepted", where="saz")
    sessions: dict[int, dict[str, zipfile.ZipInfo]] = {}
    for info in infos:
        match = _MEMBER.fullmatch(info.filename)
        if match is None:
            continue
        if info.flag_bits & 0x1:
            raise MalformedError("password-protected SAZ archives are not supported: save it "
                                 "again from Fiddler without a password", where="saz")
        sessions.setdefault(int(match[1]), {})[match[2].lower()] = info
    if not sessions:
        raise MalformedError("not a SAZ archive: no raw/NN_c.txt session files", where="saz")
    return sessions


def _exchanges(archive: zipfile.ZipFile, sessions: dict, max_total: int) -> Iterator[Exchange]:
    budget = [max_total]
    with archive:
        for number in sorted(sessions):
            if budget[0] <= 0:
                yield Exchange(None, None, errors=[{
                    "where": "saz", "error": f"more than {max_total} uncompressed bytes: the rest "
                    "of the archive is not read"}])
                return
            exchange = _Session(archive, number, sessions[number], budget).exchange()
            if exchange is not None:
                yield exchange


class _Session:
    """One SAZ session being turned into an Exchange."""

    def __init__(self, archive: zipfile.ZipFile, number: int, members: dict, budget: list):
        self.archive = archive
        self.number = number
        self.members = members
        self.budget = budget
        self.errors: list[dict] = []
        self.server_port = 443  # from the request's URL or Host header once parsed

    def read(self, kind: str, limit: int) -> bytes | None:
        info = self.members.get(kind)
        if info is None:
            return None
        name = info.filename
        allowed = min(limit, self.budget[0])
        try:
            with self.archive.open(info) as f:
                data = f.read(allowed + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as exc:
            self.errors.append({"where": f"saz.{name}", "error": f"cannot read the member: {exc}"})
            return None
        self.budget[0] -= len(data)
        if len(data) > allowed:
            self.errors.append({"where": f"saz.{name}", "error": f"larger than {allowed} bytes "
                                "(the size limit): not read"})
            return None
        return data

    def exchange(self) -> Exchange | None:
        timers, flags = self._metadata()
        request = self._message("c", "request")
        if request is not None and request.method.upper() == "CONNECT":
            return None
        response = self._message("s", "response")
        for kind, message, role in (("c", request, "request"), ("s", response, "response")):
            if message is None and kind not in self.members:
                self.errors.append({"where": f"saz.session {self.number}",
                                    "error": f"{role} not in the archive"})
        if request is not None:
            request.time, request.end_time = timers[0], timers[1] or timers[0]
        if response is not None:
            response.time, response.end_time = timers[2], timers[3]
        client_ip = _address(flags.get("x-clientip", ""))
        client_port = flags.get("x-clientport", "")
        client = _endpoint(client_ip, client_port) if client_ip and client_port else ""
        server = _endpoint(_address(flags.get("x-hostip", "")), self.server_port) \
            if flags.get("x-hostip") else ""
        connection = f"saz/{client}" if client else f"saz/{self.number}"
        return Exchange(request, response, connection, client, server, self.errors)

    def feed(self, kind: str, parser: HttpParser) -> list | None:
        """The parser's events for a raw message member, fed in chunks: a large body is never in
        memory twice over (MAX_MEMBER_SIZE and the archive's budget bound what is read)."""
        info = self.members.get(kind)
        if info is None:
            return None
        name = info.filename
        allowed = min(MAX_MEMBER_SIZE, self.budget[0])
        events: list = []
        done = 0
        try:
            with self.archive.open(info) as f:
                while chunk := f.read(_CHUNK):
                    done += len(chunk)
                    if done > allowed:
                        break
                    events += parser.feed(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as exc:
            self.errors.append({"where": f"saz.{name}", "error": f"cannot read the member: {exc}"})
            return None
        finally:
            self.budget[0] -= done
        if done > allowed:
            self.errors.append({"where": f"saz.{name}", "error": f"larger than {allowed} bytes "
                                "(the size limit): not read"})
            return None
        return events + parser.close()

    def _message(self, kind: str, role: str) -> HttpMessage | None:
        parser = HttpParser(role)
        events = self.feed(kind, parser)
        if events is None:
            return None
        name = self.members[kind].filename
        messages = [e for e in events if isinstance(e, HttpMessage)]
        self.errors += [dict(e.as_record(), where=f"saz.{name}") for e in events
                        if not isinstance(e, HttpMessage)]
        if not messages:
            self.errors.append({"where": f"saz.{name}", "error": f"no HTTP {role} in the file"})
            return None
        if len(messages) > 1:
            self.errors.append({"where": f"saz.{name}", "error": f"{len(messages) - 1} more "
                                f"{role}(s) after the first, ignored"})
        msg = messages[0]
        if role == "request":
            self._origin_form(msg)
        return msg

    def _origin_form(self, msg: HttpMessage) -> None:
        """Proxy-form target -> origin-form (what the server received); remember the port."""
        try:
            url = urlsplit(msg.target)
            port = url.port or urlsplit(f"//{msg.header('Host') or url.netloc}").port
        except ValueError:  # a broken IPv6 literal or port: leave the target alone
            return
        self.server_port = port or (80 if url.scheme == "http" else 443)
        if url.scheme and url.netloc:
            msg.target = (url.path or "/") + (f"?{url.query}" if url.query else "")
            if msg.header("Host") is None:
                msg.headers.insert(0, ("Host", url.netloc))

    def _metadata(self) -> tuple[list, dict]:
        timers: list = [None, None, None, None]
        flags: dict[str, str] = {}
        data = self.read("m", MAX_META_SIZE)
        if data is None:
            return timers, flags
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            self.errors.append({"where": f"saz.{self.members['m'].filename}",
                                "error": f"invalid metadata XML: {exc}"})
            return timers, flags
        node = root.find("SessionTimers")
        attrs = node.attrib if node is not None else {}
        for i, names in enumerate(_TIMERS):
            timers[i] = next((t for t in map(_dotnet_time, map(attrs.get, names)) if t is not None),
                             None)
        for flag in root.iter("SessionFlag"):
            flags[flag.get("N", "").lower()] = flag.get("V", "")
        return timers, flags


def _dotnet_time(text: str | None) -> float | None:
    """A .NET DateTime in ISO form (7 fraction digits, offset optional: none is taken as UTC)."""
    if not text or text.startswith(_UNSET):
        return None
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        stamp = when.timestamp()
    except (ValueError, OverflowError):
        return None
    return stamp if 0 <= stamp <= _LAST_SECOND else None


def _address(text: str) -> str:
    text = text.strip().strip("[]")
    return text[7:] if text.lower().startswith("::ffff:") and "." in text else text


def _endpoint(address: str, port) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
