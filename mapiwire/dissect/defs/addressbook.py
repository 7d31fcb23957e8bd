"""Address book endpoint bodies (MS-OXCMAPIHTTP 2.2.5): being written."""

ADDRESS_BOOK: list = []
