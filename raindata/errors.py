"""User-facing errors shared by all three packages."""


class DataError(Exception):
    """A problem with user input (a file, a folder, a flag value).

    The message is one line that names the offending file or value; the command
    line layer prints it as ``error: <message>`` and exits with status 1.
    """
