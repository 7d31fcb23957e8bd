"""ROP handlers of the server, one module per spec document (mirroring dissect/defs/rops/),
and the MailboxSession that dispatches them by RopId (server-contract.md)."""

from .session import MailboxSession

__all__ = ["MailboxSession"]
