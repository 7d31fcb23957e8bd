"""The MAPI/HTTP client every active part shares: HTTP/1.1 connection, session context,
authentication, Outlook-like profiles and the recorder (DESIGN.md)."""
