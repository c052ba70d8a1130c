"""Errors whose message is safe to show a user and says what to fix. They live apart from the modules that
raise them so the CLI can catch them without loading the engine."""


class UserError(Exception):
    """A problem the user can act on: shown as a message, never as a traceback."""


class CorpusError(UserError):
    """The corpus cannot be loaded; the message says what to fix."""


class IndexUnavailable(UserError):
    """The index cannot be opened or built; the message says why and what to do."""


class QuestionError(UserError, ValueError):
    """The question cannot be answered as given (empty, too long); the message is safe to show a user."""
