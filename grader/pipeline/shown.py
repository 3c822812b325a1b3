"""Values and texts as the grader shows them: bounded, whatever a submission defined or printed.

Every value a check message quotes goes through :func:`shown` (whole when short, else its type,
its size or shape and its first items); every text the grader keeps goes through :func:`capped`
(one line) or :func:`capped_output` (the lines of one part). The limits are the constants below.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

MAX_VALUE_CHARS = 300  # one value quoted in a message
MAX_LINE_CHARS = 1_000  # one line of a message (a check's verdict, a reason)
MAX_LINES = 50  # lines of one part's output, the note of lines left out included
MAX_OUTPUT_CHARS = 20_000  # the output of one part (grade id)
OUTPUTS_BUDGET_CHARS = 60_000  # the outputs of all parts of one submission together
MAX_SUMMARY_CHARS = 2_000  # a submission's own output line
MAX_NAME_CHARS = 200  # a name: grade id, student, assignment, caption
MAX_DEPTH = 4  # levels of nesting shown; deeper ones are written "..."
MAX_RESULTS_BYTES = 1_000_000  # a results.json
MAX_FEEDBACK_BYTES = 2_000_000  # a feedback page, its pictures included

_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")  # controls but tab and newline; lone surrogates
_NOUNS = {"str": "string", "NoneType": "None"}
_MORE = "..."


def points(value: float) -> str:
    """A score as people read it: two decimals (results.json and the gradebook keep four)."""
    return f"{value:.2f}"


def printable(text: str) -> str:
    """``text`` with control characters (but tab and newline) and lone surrogates as U+FFFD: it encodes as UTF-8."""
    return _UNPRINTABLE.sub("\ufffd", text)


def capped(text: object, limit: int = MAX_LINE_CHARS) -> str:
    """``text`` in at most ``limit`` printable characters, its cut end saying how long it was.

    A value that is not a str is :func:`shown`.
    """
    text = text if isinstance(text, str) else shown(text, limit)
    return _cut_text(text[:limit], len(text), limit)


def capped_output(text: object, limit: int = MAX_OUTPUT_CHARS) -> str:
    """The lines of one part's output: each line capped, at most :data:`MAX_LINES` lines and ``limit`` characters.

    Capping again changes nothing; no line is copied whole, however long the text.
    """
    text = text if isinstance(text, str) else shown(text, limit)
    total = text.count("\n") + 1
    kept = total if total <= MAX_LINES else MAX_LINES - 1
    lines, start = [], 0
    for _ in range(kept):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        lines.append(_cut_text(text[start:min(end, start + MAX_LINE_CHARS)], end - start, MAX_LINE_CHARS))
        start = end + 1
    if kept < total:
        lines.append(f"{_MORE} ({total - kept:,} more lines)")
    return capped("\n".join(lines), limit)


def _cut_text(head: str, length: int, limit: int) -> str:
    """A text of ``length`` characters that begins with ``head`` (at least ``limit`` of them), in ``limit``."""
    if length <= limit:
        return printable(head)
    note = f"{_MORE} ({length:,} characters in all)"
    kept = head[:max(limit - len(note), 0)]
    return printable(kept + note if kept else head[:limit])


def output_limit(parts: int) -> int:
    """The characters each of ``parts`` outputs may have, so that all of them fit :data:`OUTPUTS_BUDGET_CHARS`."""
    return min(MAX_OUTPUT_CHARS, OUTPUTS_BUDGET_CHARS // max(parts, 1))


def shown(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """``value`` as a message quotes it, in at most about ``limit`` characters (never fewer than 60).

    Whole when it fits (``(16, 100, 100)``); else by its type, size or shape and first items:
    ``a tuple of 100,000 floats: (0.1, 0.2, 0.3, ...)``.
    """
    limit = max(limit, 60)
    text, complete = _render(value, limit, 0)
    if complete:
        return text
    header = _header(value)[:limit // 2]
    preview, _ = _render(value, limit - len(header) - 2, 0)
    return f"{header}: {preview}"


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _type_name(value: object) -> str:
    return str(type(value).__name__)[:60]


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 or noun.endswith("s") else f"{count:,} {noun}s"


def _items_noun(items: Iterable[object]) -> str:
    kinds = {type(item) for item in items}
    name = kinds.pop().__name__[:40] if len(kinds) == 1 else "item"
    return _NOUNS.get(name, name)


def _header(value: object) -> str:
    """What ``value`` is, without its items: ``a tuple of 100,000 floats``."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)} and dtype {str(value.dtype)[:60]}"
    if isinstance(value, str):
        return f"a string of {_counted(len(value), 'character')}"
    if isinstance(value, bytes | bytearray):
        return _counted(len(value), "byte")
    if isinstance(value, Mapping):
        return f"{_article(_type_name(value))} of {_counted(len(value), 'item')}"
    if isinstance(value, list | tuple | set | frozenset):
        return f"{_article(_type_name(value))} of {_counted(len(value), _items_noun(value))}"
    return f"an object of type {_type_name(value)}"


def _render(value: object, room: int, depth: int) -> tuple[str, bool]:
    """(``value`` written in at most ``room`` characters, whether that is all of it)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return _array(value, room, depth)
    if isinstance(value, Mapping):
        pairs = ((key, value[key]) for key in itertools.islice(value, room))
        return _items("{}", pairs, len(value), room, depth, _pair)
    if isinstance(value, list | tuple | set | frozenset):
        brackets = "[]" if isinstance(value, list) else "()" if isinstance(value, tuple) else "{}"
        brackets = brackets if value or brackets != "{}" else ("set(", ")")
        text, complete = _items(brackets, itertools.islice(value, room), len(value), room, depth, _render)
        if complete and isinstance(value, tuple) and len(value) == 1:
            return f"({text[1:-1]},)", True
        return text, complete
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3_000:
        return _cut(f"an int of about {int(value.bit_length() * 0.30103) + 1:,} digits", room, True)
    if isinstance(value, str | bytes | bytearray):
        return _cut(repr(value[:room]), room, len(value) <= room)
    return _cut(_safe_repr(value, room), room, True)


def _safe_repr(value: object, room: int) -> str:
    try:
        text = repr(value)
    except Exception as error:  # noqa: BLE001 - an object whose repr raises is shown by its type
        return f"an object of type {_type_name(value)} (its repr raised {type(error).__name__})"
    return text if len(text) <= room else text[:room + 1]


def _cut(text: str, room: int, complete: bool) -> tuple[str, bool]:
    if complete and len(text) <= room:
        return text, True
    return text[:max(room - len(_MORE), 0)] + _MORE, False


def _array(value: np.ndarray, room: int, depth: int) -> tuple[str, bool]:
    """An array's first items as nested lists; complete only when every item is there."""
    per_axis = 100 if value.ndim == 1 else 10
    corner = value[tuple(slice(0, per_axis if axis < MAX_DEPTH else 1) for axis in range(value.ndim))]
    text, complete = _render(corner.tolist(), room, depth)
    return text, complete and corner.size == value.size


def _items(brackets: Sequence[str], items: Iterable[object], count: int, room: int, depth: int,
           render: Callable[[object, int, int], tuple[str, bool]]) -> tuple[str, bool]:
    """Items (or ``(key, value)`` pairs of a mapping) between brackets, as many as ``room`` allows."""
    opening, closing = brackets
    if depth >= MAX_DEPTH and count:
        return f"{opening}{_MORE}{closing}", False
    parts: list[str] = []
    used, complete = len(opening) + len(closing), True
    for item in items:
        left = room - used - len(f", {_MORE}")
        if left < 4:
            complete = False
            break
        text, whole = render(item, left, depth + 1)
        if len(text) > left:  # too little room for even the start of this item
            break
        parts.append(text)
        used += len(text) + 2
        if not whole:
            complete = False
            break
    inner = ", ".join(parts)
    if len(parts) < count:
        complete, inner = False, f"{inner}, {_MORE}" if parts else _MORE
    return f"{opening}{inner}{closing}", complete


def _pair(pair: tuple[object, object], room: int, depth: int) -> tuple[str, bool]:
    key, key_whole = _render(pair[0], room, depth)
    if not key_whole:
        return key, False
    value, whole = _render(pair[1], room - len(key) - 2, depth)
    return f"{key}: {value}", whole
