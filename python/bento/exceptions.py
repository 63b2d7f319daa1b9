"""bento's exceptions: BentoML's names, so that `except bentoml.exceptions.NotFound` keeps
working with `import bento as bentoml`."""


class BentoException(Exception):
    """Base class of every bento error."""

    error_code = 500


class InvalidArgument(BentoException):
    """A bad argument: a malformed model, a wrong input, a bad tag."""

    error_code = 400


class NotFound(BentoException):
    """No such model (or version) in the store."""

    error_code = 404


class AlreadyExists(BentoException):
    """The tag is in the store already (importing an archive twice)."""

    error_code = 409


class ServiceUnavailable(BentoException):
    error_code = 503


BentoMLException = BentoException  # BentoML's name for the base class
