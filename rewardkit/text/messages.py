"""The text of one completion, in any message format a trainer produces.

>>> completion_text([{"role": "assistant", "content": [{"type": "text", "text": "42"}]}])
'42'
"""

from __future__ import annotations

from typing import Any

__all__ = ["completion_text"]


def completion_text(completion: Any) -> str:
    """The text of one completion in any format TRL produces.

    Plain strings pass through; chat completions (a list of messages, or one message)
    give the concatenated content of their assistant messages (all messages when none is
    marked assistant). Multimodal content parts contribute their text parts.

    >>> completion_text([{"role": "assistant", "content": "42"}])
    '42'
    >>> completion_text("42")
    '42'
    """
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, (list, tuple)):
        messages = [m for m in completion if isinstance(m, dict)]
        if not messages:
            return "".join(x for x in completion if isinstance(x, str))
        assistant = [m for m in messages if m.get("role") == "assistant"]
        return "".join(_content_text(m.get("content")) for m in (assistant or messages))
    return str(completion)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)
