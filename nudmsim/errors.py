"""User-facing errors.

Anything a user can cause (bad card, unknown name, unphysical parameter, unwritable path) raises
:class:`NudmsimError` with a one-line message that names the problem and the fix.  The CLI prints
it as ``nudmsim: error: <message>`` and exits with status 2, without a traceback.
"""


class NudmsimError(Exception):
    """A user error: bad input, unknown name, kinematically forbidden parameters."""


class CardError(NudmsimError):
    """A detector or source card is missing, malformed, or has an invalid value."""

    def __init__(self, path, key, problem, fix=""):
        self.path, self.key = path, key
        msg = f"{path}: key '{key}': {problem}" if key else f"{path}: {problem}"
        if fix:
            msg += f" ({fix})"
        super().__init__(msg)


class ParameterError(NudmsimError):
    """A model parameter is unphysical, NaN, or kinematically forbidden."""
