"""Texts every match of a regular expression contains, to test cheaply before the regex.

``required_literals`` reads an RE2 pattern conservatively: it only looks at characters
outside groups and classes, takes the longest run of plain characters each top-level
alternative must match, and gives up (None) on anything it does not understand. A run is
cut where a quantifier, a class, a group, an anchor or an escape other than escaped
punctuation begins; a character made optional by ``*``, ``?`` or ``{0`` is dropped. An
inline ``i`` flag makes letters match either case: the pattern then has no literal.
"""

from __future__ import annotations

__all__ = ["required_literals"]

# Escapes that stand for a class, an assertion or a control character.
_SPECIAL_ESCAPES = frozenset("dDwWsSbBAzCnrtfva")
# Escapes followed by more of the pattern (hex, Unicode classes, quoted text).
_ESCAPES_WITH_ARGUMENTS = frozenset("xpPQE")
_METACHARACTERS = frozenset(".^$[]()|*+?{}\\")


def required_literals(pattern: str, shortest: int = 2) -> tuple[str, ...] | None:
    """Texts of at least ``shortest`` characters, one of which every match contains; else None."""
    branches = _branches(pattern)
    if branches is None:
        return None
    found = []
    for branch in branches:
        runs = _runs(branch)
        if runs is None:
            return None
        best = max(runs, key=len, default="")
        if len(best) < shortest:
            return None
        found.append(best)
    return tuple(found)


def _skip_class(pattern: str, start: int) -> int | None:
    """The index after the class that opens at ``start`` (``[``), or None if unclosed."""
    index = start + 1
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[" and pattern.startswith("[:", index):
            end = pattern.find(":]", index + 2)
            if end < 0:
                return None
            index = end + 2
            continue
        if char == "]":
            return index + 1
        index += 1
    return None


def _skip_group(pattern: str, start: int) -> int | None:
    """The index after the group that opens at ``start`` (``(``), or None if unclosed."""
    depth = 0
    index = start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            after = _skip_class(pattern, index)
            if after is None:
                return None
            index = after
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def _branches(pattern: str) -> list[str] | None:
    """The top-level alternatives of ``pattern``; None if it sets the ``i`` flag anywhere."""
    branches = []
    start = index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            after = _skip_class(pattern, index)
            if after is None:
                return None
            index = after
            continue
        if char == "(":
            if pattern.startswith("(?", index) and _sets_ignore_case(pattern, index + 2):
                return None
            after = _skip_group(pattern, index)
            if after is None:
                return None
            # A flag group nested deeper may still turn on ignore-case.
            nested = (i for i in range(index, after) if pattern.startswith("(?", i))
            if any(_sets_ignore_case(pattern, i + 2) for i in nested):
                return None
            index = after
            continue
        if char == "|":
            branches.append(pattern[start:index])
            start = index + 1
        index += 1
    branches.append(pattern[start:])
    return branches


def _sets_ignore_case(pattern: str, index: int) -> bool:
    """Whether the flags that start at ``index`` (after ``(?``) turn ``i`` on."""
    flags = ""
    while index < len(pattern) and pattern[index] not in ":)":
        flags += pattern[index]
        index += 1
    return "i" in flags.split("-", 1)[0]


def _runs(branch: str) -> list[str] | None:
    """The runs of plain characters ``branch`` must match, in order; None if not understood."""
    runs: list[str] = []
    run: list[str] = []

    def cut() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    index = 0
    while index < len(branch):
        char = branch[index]
        if char in "*?" or (char == "{" and branch.startswith("{0", index)):
            if run:
                run.pop()  # the character before is optional
            cut()
            index = _after_quantifier(branch, index)
            continue
        if char in "+{":
            cut()  # the character before stays, but what follows may repeat it
            index = _after_quantifier(branch, index)
            continue
        if char == "\\":
            if index + 1 >= len(branch):
                return None
            escaped = branch[index + 1]
            if escaped in _ESCAPES_WITH_ARGUMENTS or escaped.isdigit():
                return None  # \x41, \pL, \Q...\E, octal: not worth reading
            if escaped in _SPECIAL_ESCAPES or escaped.isalnum():
                cut()
            else:
                run.append(escaped)
            index += 2
            continue
        if char == "[":
            after = _skip_class(branch, index)
            if after is None:
                return None
            cut()
            index = after
            continue
        if char == "(":
            after = _skip_group(branch, index)
            if after is None:
                return None
            cut()
            index = after
            continue
        if char in _METACHARACTERS:
            cut()
            index += 1
            continue
        run.append(char)
        index += 1
    cut()
    return runs


def _after_quantifier(branch: str, index: int) -> int:
    """The index after the quantifier at ``index`` and its lazy ``?``."""
    if branch[index] == "{":
        end = branch.find("}", index)
        index = len(branch) if end < 0 else end + 1
    else:
        index += 1
    if index < len(branch) and branch[index] == "?":
        index += 1
    return index
