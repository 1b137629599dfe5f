"""One pure function per kind of fact: ``extract_x(document) -> list[Record]``."""
