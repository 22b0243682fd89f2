"""The one exception root of c2v.

::

    C2VError
    ├── UsageError                 bad input from the user (CLI exit code 2)
    │   ├── ConfigError            bad configuration value or file
    │   ├── UnknownTopicError      offline provider has no transcript for the topic
    │   └── OutputDirError         output directory missing, unwritable or unsafe
    ├── CaseBusyError              another run holds the case folder
    ├── CaseFileError              a record of a case folder is unreadable or not what it should hold
    ├── MissingDependencyError     a system tool is absent (says how to install it)
    ├── LLMError                   a provider call failed (after its own retries)
    │   ├── TranscriptError        offline transcript lacks the reply for a call
    │   ├── LLMTimeout             no answer within the timeout, on every try
    │   ├── LLMUnavailable         connection errors or HTTP 5xx, on every try
    │   ├── LLMRateLimited         HTTP 429 on every try, or a Retry-After too long to wait
    │   ├── LLMAuthError           the key was rejected (HTTP 401/403)
    │   ├── LLMRequestError        the provider rejected the request (HTTP 400/404/413/422)
    │   └── LLMRefused             the model declined to answer (safety filter, refusal)
    ├── SpeechError                speech synthesis failed (after its retries) or its audio is unusable
    │   ├── SpeechTimeout          no answer within the timeout, on every try
    │   ├── SpeechUnavailable      connection errors, HTTP 5xx or a missing engine, on every try
    │   ├── SpeechRateLimited      HTTP 429 on every try, or a Retry-After too long to wait
    │   ├── SpeechAuthError        the key was rejected (HTTP 401/403)
    │   └── SpeechRequestError     the provider rejected the request (bad voice, model, text)
    ├── SubtitleError              subtitles could not be written, muxed or burned in
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
    ├── ServiceError               the hosted service answered a client with an error (has ``status``)
    └── AssetError                 an icon could not be used (the element becomes a miss, never a failure)
        ├── UnsafeAssetError       an SVG was refused: scripts, entities, external references, huge
        └── AssetFetchError        an icon service refused a request (HTTP 4xx, a bad body)
            └── AssetServiceUnavailable  unreachable, HTTP 5xx or 429 on every try

Model mistakes (unparsable replies, Manim tracebacks) are data fed back to the model;
these exceptions are raised only when c2v cannot go on. Every message is one line that
says what failed and where, and never contains a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError


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


class CaseFileError(C2VError, ValueError):
    """``name`` (a file of the case at ``path``) exists but cannot be used: ``reason`` says why."""

    def __init__(self, path: Path, name: str, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.name = name
        self.reason = reason


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


class LLMPromptRejected(LLMRequestError):
    """The provider refused this one request (HTTP 400/413/422: a prompt past the context
    window, a content filter, an input it cannot read). Another section's prompt may pass."""


class LLMRefused(LLMError):
    pass


class SpeechError(C2VError, RuntimeError):
    pass


class SpeechTimeout(SpeechError, TimeoutError):
    pass


class SpeechUnavailable(SpeechError, ConnectionError):
    pass


class SpeechRateLimited(SpeechError):
    pass


class SpeechAuthError(SpeechError, PermissionError):
    pass


class SpeechRequestError(SpeechError, ValueError):
    pass


class SubtitleError(C2VError, RuntimeError):
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


class RevisionFailed(RenderError):
    """A person's revision of a section could not be used or rendered; the video keeps the old one."""


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


class AssetError(C2VError, RuntimeError):
    pass


class UnsafeAssetError(AssetError, ValueError):
    pass


class AssetFetchError(AssetError):
    pass


class AssetServiceUnavailable(AssetFetchError, ConnectionError):
    pass


def stops_topic(exc: BaseException) -> bool:
    """A provider failure after its retries (dead endpoint, rejected key, unknown model) stops a
    topic; a reply that cannot be used, a refusal, or a request rejected for what this one
    prompt holds costs one attempt of one section only.

    A misconfiguration that rejects every request (a parameter the model does not take) is
    caught by the Planner's calls, which come first and whose failure always ends the topic.
    """
    return isinstance(exc, LLMError) and not isinstance(exc, LLMRefused | LLMPromptRejected)


def one_line(exc: BaseException, limit: int = 300, typed: bool = True) -> str:
    """An exception as one line: the first line of its message cut to ``limit``, after its type
    unless ``typed`` is False (the type alone when the message is empty)."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    return f"{type(exc).__name__}: {lines[0][:limit]}" if typed else lines[0][:limit]


@dataclass(frozen=True)
class FirstError:
    """The first error of a pydantic ValidationError, without the input (it may be a secret)."""

    where: str  # the field path, dotted ("" at the top level)
    msg: str
    kind: str  # pydantic's error type, e.g. "extra_forbidden"
    cause: object  # the exception a validator raised, if one did

    def line(self) -> str:
        return f"{self.where}: {self.msg}" if self.where else self.msg


def first_error(exc: ValidationError) -> FirstError:
    first = exc.errors()[0]
    return FirstError(
        where=".".join(str(p) for p in first["loc"]),
        msg=str(first["msg"]),
        kind=str(first["type"]),
        cause=first.get("ctx", {}).get("error"),
    )
