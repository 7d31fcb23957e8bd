"""Body parsing through the generated fast parser, with construct as the reference (DESIGN.md
principle 6; mapiwire/dissect/fastgen.py makes the parser).

`parse(definition, data, **params)` returns what `definition.parse_stream` returns for a
well-formed body that it reads to its last byte, or `FALLBACK`: on any exception, any `errors`
entry a construct would report, or bytes left after the body. The caller then parses the body
with construct, which gives the errors with their `where` and `offset`.
"""

from __future__ import annotations

import hashlib
import io
import marshal
import os
import sys

import construct as c

from .fastgen import FastTree, Generated

FALLBACK = object()
_tree: FastTree | None = None
_bodies: dict[int, object] = {}  # id(body definition of mapihttp.BODIES) -> its fast construct


class _Refused(BaseException):
    """A construct reported a problem: construct must parse this body (BaseException, so that no
    construct's own `except Exception` handles it)."""


class _NoReports(list):
    """The `errors` param of a fast parse: any report ends the fast parse."""

    def append(self, entry):
        raise _Refused(entry)


def enabled() -> bool:
    """False when MAPIWIRE_NO_FASTPATH is set (to time or debug construct alone)."""
    return not os.environ.get("MAPIWIRE_NO_FASTPATH")


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mapiwire")


def cached_code(source: str):
    """The code object of the generated source: from the cache when a file for this exact source
    (its SHA-256, and this Python's bytecode version) is there, else compiled and stored. A
    changed definition changes the source, hence the file: a stale cache is never read."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:32]
    path = os.path.join(cache_dir(), f"fastpath-{digest}-{sys.implementation.cache_tag}.marshal")
    try:
        with open(path, "rb") as f:
            return marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = compile(source, "<mapiwire fastgen>", "exec")
    try:
        os.makedirs(cache_dir(), exist_ok=True)
        temporary = f"{path}.{os.getpid()}"
        with open(temporary, "wb") as f:
            marshal.dump(code, f)
        os.replace(temporary, path)
        for name in os.listdir(cache_dir()):  # the code of earlier definitions is of no more use
            if name.startswith("fastpath-") and name.endswith(".marshal") and os.path.join(cache_dir(), name) != path:
                os.unlink(os.path.join(cache_dir(), name))
    except OSError:
        pass  # no cache: compiled again next time
    return code


def tree() -> FastTree:
    """The fast tree of every body and ROP definition, made once per process."""
    global _tree
    if _tree is None:
        from .defs.mapihttp import BODIES
        from .defs.rops import ROP_BY_ID

        made = FastTree(cached_code)
        for body in BODIES.values():
            for definition in (body.request, body.success, body.failure):
                if definition is not None:
                    _bodies[id(definition)] = made.fast(definition)
        for rop in ROP_BY_ID.values():
            for definition in (rop.request, rop.response, rop.failure, *rop.error_shapes.values()):
                made.fast(definition)
        made.bind()
        _tree = made
    return _tree


def parse(definition, data: bytes, **params):
    """The parsed body, or FALLBACK (see the module docstring). `params` are construct's parse
    params; they are copied, so a fallback leaves the caller's untouched. Only the bodies of
    `mapihttp.BODIES` take the fast path: the fast tree is made once, for the registries' objects,
    and never grows with definitions made on the fly."""
    tree()
    fast = _bodies.get(id(definition))
    if fast is None:  # not a body of the registry (decode --as ...): construct parses it
        return FALLBACK
    stream = io.BytesIO(data)
    params["errors"] = _NoReports()
    # as parse_stream makes it, but for `_root` (no definition reads `this._root`, luagen.py refuses it):
    # None, so that no context refers to itself and each body's contexts go with their last reference,
    # not at the next cyclic garbage collection (the params' own `_params` cycle is cut below)
    context = c.Container(params, _parsing=True, _building=False, _sizing=False, _root=None)
    context["_params"] = context
    try:
        if isinstance(fast, Generated):  # its function directly: no stream position kept between fields
            value, end = fast.inner(stream, data, 0, context, context, "(parsing)")
        else:
            value = fast._parsereport(stream, context, "(parsing)")
            end = stream.tell()
    except (Exception, _Refused, RecursionError):
        return FALLBACK
    finally:
        context.clear()
    if end != len(data):
        return FALLBACK
    return value
