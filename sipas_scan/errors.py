"""Exit codes and the exception hierarchy.

The library raises these; only the command-line edge (cli.py) turns them into
an exit status and a one-line message on stderr.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    bad_args = 2
    # Also scan's status when some files could not be read (everything else
    # was read and stored; export --flags lists them) or no scan was found.
    input_file = 3
    missing_dependency = 4
    invalid_survey = 5
    secret = 6
    ledger = 7
    output_file = 8
    other_error = 15


class SipasError(Exception):
    """Base class: every expected failure the user can act on."""

    exit_code = ExitCode.other_error


class ReasonedError(SipasError):
    """An error that also carries a short reason code ('forged-code',
    'empty-file', ...) for the database and the review queue."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


class BadArgsError(SipasError):
    exit_code = ExitCode.bad_args


class InputFileError(SipasError):
    """An input file is missing, unreadable or malformed."""

    exit_code = ExitCode.input_file


class MissingDependencyError(SipasError):
    """A system program, font or language pack is not installed."""

    exit_code = ExitCode.missing_dependency


class SurveyDefinitionError(SipasError):
    """A survey definition file does not validate.

    ``errors`` holds every problem found, each as ``"path:line: reason"``.
    """

    exit_code = ExitCode.invalid_survey

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        first = self.errors[0] if self.errors else "invalid survey definition"
        more = len(self.errors) - 1
        super().__init__(first + (f" (and {more} more problem(s))" if more > 0 else ""))


class SecretError(SipasError):
    """The signing secret is missing or too weak. Never carries the secret."""

    exit_code = ExitCode.secret


class LedgerError(SipasError):
    """The issued-serials ledger cannot be used: missing, not a ledger (a
    results database, a CSV), or written by a newer version."""

    exit_code = ExitCode.ledger


class OutputFileError(SipasError):
    exit_code = ExitCode.output_file
