"""Typed reward options: text from ``name@key=value`` read by the option's type, and every
reward's constructor arguments checked against their annotations.

A reward's options are its constructor's annotated parameters. Text is read as the type
says: a ``bool`` from ``true/false/yes/no/on/off/1/0`` in any case, an ``int`` or ``float``
from a number, ``None`` from ``none``/``null`` where it is allowed; anything else is refused
with the option's name and type, so a misspelt value never silently keeps the default.

>>> from rewardkit.rewards.accuracy import BoxedAccuracy
>>> parse_options(BoxedAccuracy, {"boxed_only": "Off"}, "boxed_accuracy")
{'boxed_only': False}
>>> parse_options(BoxedAccuracy, {"boxed_only": "maybe"}, "boxed_accuracy")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rewardkit.rewards.options.RewardOptionError: boxed_accuracy option boxed_only='maybe': ...
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import numbers
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["RewardOptionError", "check_options", "checked_init", "parse_options"]

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
_BOOL_HELP = "bool (true/false/yes/no/on/off/1/0)"


class RewardOptionError(TypeError, ValueError):
    """A reward option of the wrong type (both a ``TypeError`` and a ``ValueError``, the two
    errors a bad configuration raised before options were typed)."""


def _members(hint: Any) -> tuple[Any, ...] | None:
    """The simple types a hint allows (``None`` when it is not simple enough to check)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(hint):
            members = _members(arg)
            if members is None:
                return None
            out.extend(members)
        return tuple(out)
    if hint in (bool, int, float, str, type(None)):
        return (hint,)
    if origin is typing.Literal:
        return (hint,)
    if origin in (Sequence, list, tuple) and typing.get_args(hint)[:1] == (str,):
        return (hint,)
    return None


@functools.cache
def _option_types(factory: Callable[..., Any]) -> dict[str, tuple[Any, ...]]:
    """``{parameter: allowed simple types}`` for the checkable parameters of ``factory``."""
    function = factory.__init__ if isinstance(factory, type) else factory
    function = inspect.unwrap(function)
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an annotation that cannot be resolved is simply not checked
        return {}
    params = inspect.signature(function).parameters
    out = {}
    for name, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or name not in hints:
            continue
        members = _members(hints[name])
        if members is not None:
            out[name] = members
    return out


def _describe(members: tuple[Any, ...]) -> str:
    names = []
    for member in members:
        if member is bool:
            names.append(_BOOL_HELP)
        elif member is type(None):
            names.append("none")
        elif typing.get_origin(member) is typing.Literal:
            names.append("one of " + ", ".join(map(repr, typing.get_args(member))))
        elif isinstance(member, type):
            names.append(member.__name__)
        else:
            names.append("a list of str")
    return " or ".join(names)


def _fits(value: Any, member: Any) -> bool:
    if member is type(None):
        return value is None
    if member is bool:
        return isinstance(value, bool)
    if member is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if member is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if member is str:
        return isinstance(value, str)
    if typing.get_origin(member) is typing.Literal:
        return value in typing.get_args(member)
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def _from_text(text: str, member: Any) -> tuple[bool, Any]:
    word = text.strip()
    lower = word.lower()
    if member is type(None):
        return lower in ("none", "null"), None
    if member is bool:
        if lower in TRUE_WORDS or lower in FALSE_WORDS:
            return True, lower in TRUE_WORDS
        return False, None
    if member in (int, float):
        try:
            number = json.loads(word)
        except json.JSONDecodeError:
            return False, None
        ok = _fits(number, member) and (member is int or math.isfinite(number))
        return ok, (float(number) if member is float and ok else number)
    if member is str:
        return True, word
    if typing.get_origin(member) is typing.Literal:
        return word in typing.get_args(member), word
    return False, None


def parse_options(factory: Callable[..., Any], raw: dict[str, str], owner: str) -> dict[str, Any]:
    """Read ``{option: text}`` by the types of ``factory``'s parameters.

    An option without a checkable type is read as JSON when it parses, else as text.
    """
    types_ = _option_types(factory)
    parsed: dict[str, Any] = {}
    for key, text in raw.items():
        members = types_.get(key)
        if members is None:
            try:
                parsed[key] = json.loads(text)
            except json.JSONDecodeError:
                parsed[key] = text.strip()
            continue
        # a bool is tried first so that "1" is True for a bool | int option
        for member in sorted(members, key=lambda m: m is not bool):
            ok, value = _from_text(text, member)
            if ok:
                parsed[key] = value
                break
        else:
            raise RewardOptionError(
                f"{owner} option {key}={text.strip()!r}: expected {_describe(members)}"
            )
    return parsed


def check_options(factory: Callable[..., Any], arguments: dict[str, Any], owner: str) -> None:
    """Raise :class:`RewardOptionError` naming the option and its type when an argument
    does not fit."""
    types_ = _option_types(factory)
    for key, value in arguments.items():
        members = types_.get(key)
        if members is not None and not any(_fits(value, m) for m in members):
            raise RewardOptionError(
                f"{owner} option {key}={value!r}: expected {_describe(members)}, "
                f"got {type(value).__name__}"
            )


def checked_init(init: Callable[..., None], owner: str) -> Callable[..., None]:
    """``init`` that first checks its keyword and positional arguments' types."""

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            names = [p for p in inspect.signature(init).parameters][1 : len(args) + 1]
            check_options(init, dict(zip(names, args, strict=False)), owner)
        check_options(init, kwargs, owner)
        init(self, *args, **kwargs)

    return __init__
