"""User-facing errors shared by all three packages."""


class DataError(Exception):
    """A problem with user input (a file, a folder, a flag value).

    The message is one line that names the offending file or value; the command
    line layer prints it as ``error: <message>`` and exits with status 1. Control
    characters (from file names) are escaped, so it stays one line whatever it names.
    """

    def __str__(self) -> str:
        return printable(super().__str__())


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (a file named
    ``"\\n.png"`` shows as ``\\n.png``), so that a message naming it stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
