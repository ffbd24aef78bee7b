"""How the pack serves a call: each resource converted once per call, not once per policy.

The pulumi-policy SDK converts a resource's properties (`MessageToDict`, `deserialize_properties`,
`unknown_checking_proxy`: three copies of the value) inside its loop over policies, so an Analyze
call converts the resource once per resource policy and an AnalyzeStack call converts the whole
stack once per stack policy. At 1,000 teams (19,006 resources) that conversion was about 80% of
AnalyzeStack and most of the pack's time after the gRPC round trips (BENCHMARKS.md).

`convert_once_per_call` keeps, for the duration of one Analyze or AnalyzeStack call, what each of
the three conversions returned for each input object, so every policy of the call gets the very
objects the first one got. The SDK's own code still does all the work, in the same order, with
the same results: only repeats are skipped. Sharing is safe because no rule reads the proxies
twice or writes to them: every rule works on `common.plain` copies made for it.

The memo is keyed by object identity and holds each key, so no object of the call can be freed
and its id reused while the memo lives; it lives on the serving thread and only for one call.
The cyclic garbage collector is paused while any call runs (one call allocates hundreds of
thousands of containers that all stay alive until it returns, and each collection walks them all:
half of AnalyzeStack's time at 1,000 teams) and resumes when the last running call returns.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pulumi_policy.policy as sdk

F = TypeVar("F", bound=Callable[..., Any])

_call = threading.local()


def _memoized(convert: F) -> F:
    """`convert(value)`, answered from this call's memo when `value` was converted before in it."""

    @functools.wraps(convert)
    def once(value: Any, *args: Any, **kwargs: Any) -> Any:
        memo: dict[tuple[int, int], tuple[Any, Any]] | None = getattr(_call, "memo", None)
        if memo is None or args or kwargs:  # outside a call, or another variant (Remediate's secrets)
            return convert(value, *args, **kwargs)
        key = (id(once), id(value))
        hit = memo.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        result = convert(value)
        memo[key] = (value, result)
        return result

    return once  # type: ignore[return-value]


class _Collector:
    """Pauses the cyclic garbage collector while at least one call runs (calls run on several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._resume = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._resume:
                    gc.enable()


_collector = _Collector()


def _per_call(method: F) -> F:
    @functools.wraps(method)
    def serve(self: Any, request: Any, context: Any) -> Any:
        _call.memo = {}
        try:
            with _collector.paused():
                return method(self, request, context)
        finally:
            _call.memo = None

    return serve  # type: ignore[return-value]


def convert_once_per_call() -> None:
    """Make the SDK's policy server convert each resource once per call (see the module doc).
    Call after `wire.tolerate_non_finite_numbers`, whose `MessageToDict` it wraps."""
    json_format = sdk.json_format

    class _Once:
        def __getattr__(self, name: str) -> Any:
            return getattr(json_format, name)

        MessageToDict = staticmethod(_memoized(json_format.MessageToDict))

    sdk.json_format = _Once()  # type: ignore[assignment]
    sdk.deserialize_properties = _memoized(sdk.deserialize_properties)
    sdk.unknown_checking_proxy = _memoized(sdk.unknown_checking_proxy)
    servicer = sdk._PolicyAnalyzerServicer
    servicer.Analyze = _per_call(servicer.Analyze)  # type: ignore[method-assign]
    servicer.AnalyzeStack = _per_call(servicer.AnalyzeStack)  # type: ignore[method-assign]
