"""What a failed huggingface_hub call means, decided once for every call in `runner.hub`: the
Hub answered no (`HubLookupError`, a verdict, exit 1) or did not answer (`HubUnavailable`, exit 3:
no verdict, re-run). No Hub call is made here; they all live in `runner.hub`.
"""

from __future__ import annotations

from runner.errors import CouldNotCheck, UserError


class HubLookupError(UserError):
    """The Hub answered no; `kind` says which question: "repository" or "revision"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class HubUnavailable(CouldNotCheck):
    """The Hub did not answer `doing` (module docstring): no verdict, re-run later."""

    def __init__(self, doing: str, err: BaseException) -> None:
        super().__init__(
            f"the Hub did not answer while {doing} ({describe_unavailable(err)}); this says "
            "nothing about the model: re-run later"
        )


def network_errors() -> tuple[type[BaseException], ...]:
    """OSError and the HTTP library's base error (requests, httpx or httpx2, by hub version).

    `HfHubHTTPError` subclasses that base, so this covers refused connections and timeouts too.
    """
    from huggingface_hub.errors import HfHubHTTPError

    return (OSError, *HfHubHTTPError.__bases__)


def no_answer_errors() -> tuple[type[BaseException], ...]:
    """The HTTP library's errors that mean no answer came (connection, timeout, transport),
    whichever library this huggingface_hub uses, plus Python's own."""
    import importlib

    from huggingface_hub.errors import HfHubHTTPError

    module = importlib.import_module(HfHubHTTPError.__bases__[0].__module__)
    names = ("TransportError", "ConnectionError", "Timeout", "TimeoutException")
    found = [getattr(module, name, None) for name in names]
    library = [c for c in found if isinstance(c, type) and issubclass(c, BaseException)]
    return (ConnectionError, TimeoutError, *library)


def _status(err: BaseException) -> int | None:
    return getattr(getattr(err, "response", None), "status_code", None)


def is_unavailable(err: BaseException) -> bool:
    """Whether `err` means the Hub did not answer (rather than answering no): no response, a
    timeout, HTTP 429 (rate limit) or a 5xx server error. huggingface_hub already retried."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(err, HfHubHTTPError):
        status = _status(err)
        return status is None or status in (408, 429) or status >= 500
    if isinstance(err, OfflineModeIsEnabled):  # this machine's setting: re-running won't help
        return False
    return isinstance(err, no_answer_errors())


def describe_unavailable(err: BaseException) -> str:
    status = _status(err)
    if status == 429:
        return "rate-limited: HTTP 429"
    if status is not None:
        return f"HTTP {status}"
    return type(err).__name__


def raise_if_unavailable(what: str, err: BaseException) -> None:
    """`HubUnavailable` when `err` means the Hub did not answer `what`; else return, for the
    caller to word the refusal."""
    if is_unavailable(err):
        raise HubUnavailable(what, err) from None


def refused(what: str, err: BaseException) -> UserError:
    """The error for a failed Hub call: `HubUnavailable`, a `HubLookupError` verdict, or a
    plain `UserError` when this machine forbids Hub calls (HF_HUB_OFFLINE)."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    if is_unavailable(err):
        return HubUnavailable(what, err)
    if isinstance(err, OfflineModeIsEnabled):  # not a verdict on the model: stop the command
        return UserError(f"HF_HUB_OFFLINE is set, so the Hub was not asked ({what}); unset it")
    status = _status(err)
    detail = f"HTTP {status}" if status is not None else type(err).__name__
    return HubLookupError("repository", f"the Hub refused {what} ({detail})")
