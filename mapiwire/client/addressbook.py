"""The address book endpoint as a client uses it (MS-OXCMAPIHTTP 2.2.5, semantics MS-OXNSPI):
Bind, the request types in between, Unbind; on X-ResponseCode 10 (or 6) or a lost response,
Bind again with the old cookies and repeat the request (MS-OXCMAPIHTTP 3.1.5.7, 3.1.7.2)."""

from __future__ import annotations

from ..dissect.defs.addressbook import stat
from .session import MapiHttpError, MapiSession, ResponseLost

NO_AUX = {"Blocks": []}


class AddressBook:
    """One address book session context."""

    def __init__(self, session: MapiSession, recover: bool = True):
        self.session = session
        self.recover = recover
        self.server_guid = None
        self.reconnects = 0

    def bind(self, reconnect: bool = False):
        """2.2.5.1 Bind: a new session context (MS-OXNSPI 3.1.4.1.1 NspiBind)."""
        self.session.new_context(reconnect=reconnect)
        value = self.session.call("Bind", {"Flags": 0, "HasState": 1, "State": stat(), "AuxiliaryBuffer": NO_AUX})
        self.server_guid = value.ServerGuid
        return value

    def call(self, request_type: str, value: dict):
        """One request; its AuxiliaryBuffer is added. A lost context is bound again, once."""
        value = {**value, "AuxiliaryBuffer": NO_AUX}
        try:
            return self.session.call(request_type, value)
        except MapiHttpError as exc:
            if not self.recover or not (exc.context_lost or isinstance(exc, ResponseLost)):
                raise
            self.reconnects += 1
            self.bind(reconnect=True)
            return self.session.call(request_type, value)

    def unbind(self):
        """2.2.5.2 Unbind: the context ends."""
        return self.session.call("Unbind", {"Reserved": 0, "AuxiliaryBuffer": NO_AUX})
