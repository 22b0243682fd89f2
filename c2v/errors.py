"""The one exception root of c2v.

::

    C2VError
    ├── UsageError                 bad input from the user (CLI exit code 2)
    │   ├── ConfigError            bad configuration value or file
    │   ├── UnknownTopicError      offline provider has no transcript for the topic
    │   └── OutputDirError         output directory missing, unwritable or unsafe
    ├── CaseBusyError              another run holds the case folder
    ├── MissingDependencyError     a system tool is absent (says how to install it)
    ├── LLMError                   a provider call failed (after its own retries)
    │   ├── TranscriptError        offline transcript lacks the reply for a call
    │   ├── LLMTimeout             no answer within the timeout, on every try
    │   ├── LLMUnavailable         connection errors or HTTP 5xx, on every try
    │   ├── LLMRateLimited         HTTP 429 on every try, or a Retry-After too long to wait
    │   ├── LLMAuthError           the key was rejected (HTTP 401/403)
    │   ├── LLMRequestError        the provider rejected the request (HTTP 400/404/413/422)
    │   └── LLMRefused             the model declined to answer (safety filter, refusal)
    ├── ReplyParseError            a model reply could not be parsed (fed back to the model)
    ├── SandboxError               the sandbox itself failed (not the scene's fault)
    │   └── SandboxUnavailable     no usable sandbox backend on this machine
    ├── RenderError                a section could not be rendered
    │   └── SectionsFailed         sections never rendered; the run stops (names them)
    ├── StitchError                the sections could not be joined into one video
    ├── StorageError               a finished case could not be published (copy or S3 upload)
    ├── ClusterError               Ray could not be started, joined or asked for resources
    ├── BatchFailed                topics of a batch failed (the others finished; batch.json says which)
    ├── StoreError                 the service's job store cannot be opened, migrated or written
    └── ServiceError               the hosted service answered a client with an error (has ``status``)

Model mistakes (unparsable replies, Manim tracebacks) are data fed back to the model;
these exceptions are raised only when c2v cannot go on. Every message is one line that
says what failed and where, and never contains a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class C2VError(Exception):
    """Root of every error c2v raises on purpose."""

    exit_code = 1


class UsageError(C2VError, ValueError):
    exit_code = 2


class ConfigError(UsageError):
    pass


class UnknownTopicError(UsageError, LookupError):
    pass


class OutputDirError(UsageError, OSError):
    pass


class CaseBusyError(C2VError, RuntimeError):
    pass


class MissingDependencyError(C2VError, RuntimeError):
    pass


class LLMError(C2VError, RuntimeError):
    pass


class TranscriptError(LLMError, LookupError):
    pass


class LLMTimeout(LLMError, TimeoutError):
    pass


class LLMUnavailable(LLMError, ConnectionError):
    pass


class LLMRateLimited(LLMError):
    pass


class LLMAuthError(LLMError, PermissionError):
    pass


class LLMRequestError(LLMError, ValueError):
    pass


class LLMRefused(LLMError):
    pass


class ReplyParseError(C2VError, ValueError):
    """A reply that could not be used; carries the unusable replies so they are still counted."""

    def __init__(self, message: str, replies: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.replies: list[Any] = list(replies)


class SandboxError(C2VError, RuntimeError):
    pass


class SandboxUnavailable(SandboxError):
    pass


class RenderError(C2VError, RuntimeError):
    pass


class SectionsFailed(RenderError):
    pass


class StitchError(C2VError, RuntimeError):
    pass


class StorageError(C2VError, RuntimeError):
    pass


class ClusterError(C2VError, RuntimeError):
    pass


class BatchFailed(C2VError, RuntimeError):
    pass


class StoreError(C2VError, RuntimeError):
    pass


class ServiceError(C2VError, RuntimeError):
    """An HTTP error from the hosted service, as :class:`c2v.client.Client` sees it."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
