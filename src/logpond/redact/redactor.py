"""The redactor: applies a policy's rules and masks to text, JSON values and Arrow batches.

:class:`Redactor` compiles a :class:`~logpond.redact.policy.Policy` once (decide once, run
cheap) and is then safe to share between threads. Every method returns what it found as a
``Counter`` of identifier types (one count per finding); in ``audit`` mode the input comes
back unchanged and only the counts say what would have been masked.

Where findings overlap, the rule earlier in :data:`~logpond.redact.rules.RULE_NAMES` wins;
custom identifiers come last. A finding whose mask equals its text (a value masked before)
is not counted again, so redacting twice changes nothing.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .key_rules import NameTextRule, SecretPairRule, name_value_ok
from .keys import (
    GENERIC_NAME_KEYS,
    PHONE_KEY_WORDS,
    TAIL_ONLY_DENY_KEYS,
    KeyClass,
    KeyClassifier,
    key_words,
)
from .masks import MaskFunction, compile_mask
from .policy import DEFAULT_POLICY, Policy
from .rules import RULE_NAMES, STATIC_RULES, RegexRule, Rule

# Columns shorter than this are prefiltered row by row with a pattern compiled once;
# longer ones in one vectorized Arrow call (which compiles the pattern each time).
SMALL_COLUMN_ROWS = 512
_UNSET: Any = object()

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MAX_DEPTH", "PROTECTED_KEYS", "Redactor", "Veto"]

# Top-level record keys the SDK fills itself; never scanned.
PROTECTED_KEYS: frozenset[str] = frozenset({"timestamp", "trace_id", "span_id", "request_id"})
# Nesting deeper than this is redacted as JSON text instead of walked.
MAX_DEPTH = 64
# ``veto(type, matched_text)`` returns True to leave a finding unmasked and uncounted.
Veto = Callable[[str, str], bool]

_CARD_INT_MIN = 10**12
_CARD_INT_MAX = 10**19


class Redactor:
    """A compiled policy: ``redact_text``, ``redact_value``, ``redact_record``, ``redact_batch``."""

    def __init__(self, policy: Policy = DEFAULT_POLICY, *, veto: Veto | None = None) -> None:
        self.policy = policy
        self._audit = policy.mode == "audit"
        self._veto = veto
        self._max = policy.max_scan_chars
        enabled = policy.rules
        self._secrets = "secret" in enabled
        self._names = "name" in enabled
        self._phone = "phone" in enabled
        self._cards = "card" in enabled
        self._classifier = KeyClassifier(
            policy.deny_keys if self._secrets else (),
            policy.name_keys if self._names else (),
            policy.allow_keys,
        )
        rules: list[Rule] = []
        for name in RULE_NAMES:
            if name not in enabled:
                continue
            if name == "secret":
                rules.append(SecretPairRule(self._classifier, policy.deny_keys))
            elif name == "name":
                rules.append(NameTextRule(self._classifier, policy.name_keys))
            else:
                rules.append(STATIC_RULES[name])
        for custom in policy.custom:
            rules.append(
                RegexRule(
                    custom.name,
                    custom.compile(),
                    prefilter=custom.regex,
                    description="custom identifier",
                )
            )
        self._masks: dict[str, MaskFunction] = {
            r.name: compile_mask(r.name, policy.masks.get(r.name, "full")) for r in rules
        }
        self._masks.setdefault("secret", compile_mask("secret", policy.masks.get("secret", "full")))
        self._masks.setdefault("name", compile_mask("name", policy.masks.get("name", "partial")))
        self._rules = rules
        # The base gate unrolled (needles, then pattern); None for rules with their own.
        self._gates: list[tuple[Rule, tuple[str, ...] | None, re.Pattern[str] | None]] = [
            (r, *r.gates) if type(r).could_fire is Rule.could_fire else (r, None, None) for r in rules
        ]
        self._phone_rule = STATIC_RULES["phone"] if self._phone else None
        text_prefilters = [r.prefilter for r in rules]
        self._batch_prefilter = "|".join(
            f"(?:{p})" for p in (*text_prefilters, *self._key_prefilters(), r"\\u")
        )
        # A custom regex may need characters JSON escapes; rows with escapes go to Python.
        self._batch_fallback = r"\\" if policy.custom else None
        self._re2_ok: bool | None = None
        self._re2_small: Any = _UNSET

    def _key_prefilters(self) -> list[str]:
        """RE2 patterns matching the JSON text of every object key the classifier flags."""
        out: list[str] = []
        policy = self.policy
        if self._secrets:
            tail = {"".join(key_words(k)) for k in policy.deny_keys} & TAIL_ONLY_DENY_KEYS
            anywhere = [k for k in policy.deny_keys if "".join(key_words(k)) not in tail]
            if anywhere:
                terms = _alternation(anywhere)
                out.append(rf'(?i:{terms})[^"]*(?:"\s*:|\\")')
            if tail:
                out.append(rf'(?i:{"|".join(sorted(tail))})[^A-Za-z0-9"]*"\s*:')
        if self._names and policy.name_keys:
            generic_words = {key_words(k) for k in GENERIC_NAME_KEYS}
            specific = [k for k in policy.name_keys if key_words(k) not in generic_words]
            generic = [k for k in policy.name_keys if key_words(k) in generic_words]
            if specific:
                terms = _alternation(specific)
                out.append(rf'"[^A-Za-z0-9"]*(?i:{terms})[^A-Za-z0-9"]*"\s*:')
            if generic:
                # A generic key ("name") holds a person's name only with two words or more:
                # "service": {"name": "api"} in OTLP resources need not wake Python.
                terms = _alternation(generic)
                out.append(rf'"[^A-Za-z0-9"]*(?i:{terms})[^A-Za-z0-9"]*"\s*:\s*"[^"]*\s')
        if self._phone:
            out.append(rf'(?i:{"|".join(sorted(PHONE_KEY_WORDS))})[^"]*"\s*:')
        return out

    # --- text ----------------------------------------------------------------------------------

    def _active(self, text: str) -> list[Rule]:
        """The rules whose gate ``text`` passes: the only ones that can fire in it."""
        low = text.lower()
        active: list[Rule] = []
        for rule, needles, gate in self._gates:
            if needles is None:  # a rule with its own gate
                if rule.could_fire(text, low):
                    active.append(rule)
                continue
            for needle in needles:
                if needle in low:
                    active.append(rule)
                    break
            else:
                if gate is not None and gate.search(text) is not None:
                    active.append(rule)
        return active

    def redact_text(self, text: str) -> tuple[str, Counter[str]]:
        """Mask what the rules find in ``text``; returns the text and the findings by type."""
        counts: Counter[str] = Counter()
        return self._text(text, counts, self._active(self._scanned(text)), gated=True), counts

    def _scanned(self, text: str) -> str:
        return text if self._max is None or len(text) <= self._max else text[: self._max]

    def _text(
        self,
        text: str,
        counts: Counter[str],
        active: list[Rule],
        *,
        keyed: bool = False,
        gated: bool = False,
    ) -> str:
        """Mask ``text`` with the ``active`` rules (``gated``: their gates passed on it)."""
        forced = self._phone_rule if keyed else None
        if not active and forced is None:
            return text
        scan = self._scanned(text)
        low = "" if gated else scan.lower()
        starts: list[int] = []
        ends: list[int] = []
        types: list[str] = []
        masked: list[str] = []
        veto = self._veto
        for rule in self._with_forced(active, forced):
            force = rule is forced
            if not (gated or force or rule.could_fire(scan, low)):
                continue
            mask = self._masks[rule.name]
            for start, end in rule.find(scan, force):
                i = bisect_right(starts, start)
                if (i and ends[i - 1] > start) or (i < len(starts) and starts[i] < end):
                    continue
                value = scan[start:end]
                replacement = mask(value)
                if replacement == value or (veto is not None and veto(rule.name, value)):
                    continue
                starts.insert(i, start)
                ends.insert(i, end)
                types.insert(i, rule.name)
                masked.insert(i, replacement)
        if not starts:
            return text
        counts.update(types)
        if self._audit:
            return text
        pieces: list[str] = []
        pos = 0
        for start, end, replacement in zip(starts, ends, masked, strict=True):
            pieces.append(text[pos:start])
            pieces.append(replacement)
            pos = end
        pieces.append(text[pos:])
        return "".join(pieces)

    def _with_forced(self, active: list[Rule], forced: Rule | None) -> list[Rule]:
        if forced is None or forced in active:
            return active
        return sorted([*active, forced], key=self._rules.index)

    # --- JSON values ---------------------------------------------------------------------------

    def redact_value(self, value: Any) -> tuple[Any, Counter[str]]:
        """Redact a JSON-like value (dicts, lists, strings, numbers) without changing it.

        Keys are classified (denylisted keys mask their whole value, name keys their name,
        phone keys their number) and scanned as text; strings are scanned; integers of 13-19
        digits are checked as cards. Unchanged parts are returned as the same objects.
        """
        walk = _Walk(self, value, top=False)
        return walk.run(value, top=False), walk.counts

    def redact_record(
        self, record: Mapping[str, Any], *, mark: bool = True
    ) -> tuple[dict[str, Any], Counter[str]]:
        """Redact a log record; the SDK's own id and time fields are left alone.

        With ``mark`` (the default) a record that had findings gets ``redacted``: the sorted
        types found, merged with any list it already had.
        """
        walk = _Walk(self, record, top=True)
        out = walk.run(record, top=True)
        result = dict(out) if out is record else out
        if mark and walk.counts and not self._audit:
            previous = result.get("redacted")
            merged = set(walk.counts)
            if isinstance(previous, list):
                merged.update(t for t in previous if isinstance(t, str))
            result["redacted"] = sorted(merged)
        return result, walk.counts

    def _active_joined(self, texts: list[str]) -> list[Rule]:
        if not texts:
            return []
        return self._active(texts[0] if len(texts) == 1 else "\n".join(texts))

    def _keyed(self, rule_name: str, value: str) -> str | None:
        """The mask of a whole value a key gave away (a secret, a name), or None to keep it."""
        masked = self._masks[rule_name](value)
        if masked == value or (self._veto is not None and self._veto(rule_name, value)):
            return None
        return masked

    def _number(self, value: int, counts: Counter[str], rule: Rule) -> Any:
        text = str(value)
        if not any(span == (0, len(text)) for span in rule.find(text, True)):
            return value
        masked = self._keyed(rule.name, text)
        if masked is None:
            return value
        counts[rule.name] += 1
        return value if self._audit else masked

    def _deep(self, value: Any, counts: Counter[str]) -> Any:
        text = json.dumps(value, ensure_ascii=False)
        out = self._text(text, counts, self._active(self._scanned(text)), gated=True)
        return value if out is text else out

    # --- Arrow batches -------------------------------------------------------------------------

    def redact_message(self, text: str) -> tuple[str, Counter[str]]:
        """Redact one ``message`` or ``fields`` cell: a JSON object is walked, other text scanned.

        A JSON object that had findings comes back as compact JSON; anything else keeps its
        exact text outside the masked spans. This is what :meth:`redact_batch` does per row.
        """
        counts: Counter[str] = Counter()
        return self._cell(text, counts), counts

    def _cell(self, text: str, counts: Counter[str]) -> str:
        stripped = text.strip()
        if stripped[:1] == "{" and stripped[-1:] == "}":
            try:
                record = json.loads(stripped)
            except (ValueError, RecursionError):
                record = None
            if isinstance(record, dict):
                out = _Walk(self, record, top=True, counts=counts).run(record, top=True)
                if out is record:
                    return text
                return json.dumps(out, ensure_ascii=False, separators=(",", ":"))
        return self._text(text, counts, self._active(self._scanned(text)), gated=True)

    def redact_batch(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Counter[str]]:
        """Redact the ``message`` and ``fields`` columns of an event batch.

        Rows are first tested with the policy's prefilters, vectorized (RE2 in Arrow);
        only rows that match reach Python, where :meth:`redact_message` handles them. Other
        columns, and a batch with nothing to mask, come back as they were.
        """
        import pyarrow as pa  # noqa: PLC0415 - the SDK installs without pyarrow

        counts: Counter[str] = Counter()
        columns = list(batch.columns)
        changed = False
        for name in ("message", "fields"):
            index = batch.schema.get_field_index(name)
            if index < 0:
                continue
            new = self._column(columns[index], counts)
            if new is not None:
                columns[index] = new
                changed = True
        if not changed:
            return batch, counts
        return pa.RecordBatch.from_arrays(columns, schema=batch.schema), counts

    def _column(self, column: pa.Array, counts: Counter[str]) -> pa.Array | None:
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.compute as pc  # noqa: PLC0415

        if len(column) == 0 or column.null_count == len(column):
            return None
        hits = self._candidates(column, pc)
        positions = pc.indices_nonzero(hits)
        if len(positions) == 0:
            return None
        changed: list[int] = []
        values: list[str] = []
        for position, text in zip(positions.to_pylist(), column.take(positions).to_pylist(), strict=True):
            out = self._cell(text, counts)
            if out is not text:
                changed.append(position)
                values.append(out)
        if not changed:
            return None
        flags = [False] * len(column)
        for position in changed:
            flags[position] = True
        return pc.replace_with_mask(column, pa.array(flags, pa.bool_()), pa.array(values, column.type))

    def _small_prefilter(self) -> Any:
        """The prefilter compiled once with RE2's own bindings (``google-re2``), if installed.

        Arrow compiles the pattern on every call (about a millisecond for the default
        policy), which dominates a batch of a few rows; RE2 keeps the no-backtracking
        guarantee that Python's ``re`` would lose.
        """
        if self._re2_small is _UNSET:
            try:
                import re2  # noqa: PLC0415 - optional, server side only

                self._re2_small = re2.compile(self._batch_prefilter)
            except Exception:  # not installed, or a pattern the bindings refuse
                self._re2_small = None
        return self._re2_small

    def _candidates(self, column: pa.Array, pc: Any) -> pa.Array:
        """Rows the prefilters match (RE2); every non-null row if a custom regex is not RE2."""
        import pyarrow as pa  # noqa: PLC0415

        if self._re2_ok is None:
            try:
                pc.match_substring_regex(column.slice(0, 1), pattern=self._batch_prefilter)
                self._re2_ok = True
            except pa.ArrowInvalid:  # a custom regex that RE2 does not read
                self._re2_ok = False
        if not self._re2_ok:
            return pc.is_valid(column)
        if len(column) < SMALL_COLUMN_ROWS:
            small = self._small_prefilter()
            if small is not None:
                search, fallback = small.search, self._batch_fallback
                return pa.array(
                    [
                        value is not None
                        and (search(value) is not None or (fallback is not None and "\\" in value))
                        for value in column.to_pylist()
                    ],
                    pa.bool_(),
                )
        hits = pc.match_substring_regex(column, pattern=self._batch_prefilter)
        if self._batch_fallback is not None:
            escaped = pc.match_substring(column, pattern="\\")
            hits = pc.or_(hits, escaped)
        return hits


class _Walk:
    """One walk over a JSON value: its findings, and the rules awake for its values and keys.

    Gating the whole value at once leaves each string only the few rules that can fire
    somewhere in it; keys are gated apart, since denylisted and name keys (handled by the
    classifier) would otherwise wake the text rules for every value.
    """

    __slots__ = ("active", "counts", "key_active", "redactor", "special_keys")

    def __init__(self, redactor: Redactor, value: Any, top: bool, counts: Counter[str] | None = None) -> None:
        self.redactor = redactor
        self.counts: Counter[str] = Counter() if counts is None else counts
        values: list[str] = []
        keys: list[str] = []
        _collect(value, values, keys, 0, top)
        self.active = redactor._active_joined(values)
        self.key_active = redactor._active_joined(keys)
        classify = redactor._classifier.classify
        self.special_keys = any(classify(key) is not KeyClass.PLAIN for key in keys)

    def run(self, value: Any, top: bool) -> Any:
        """The redacted value; with no rule awake and no telling key, the value itself."""
        if not (self.active or self.key_active or self.special_keys):
            return value
        return self.value(value, 0, top)

    def value(self, value: Any, depth: int, top: bool) -> Any:
        r = self.redactor
        if isinstance(value, str):
            return r._text(value, self.counts, self.active)
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                return r._deep(value, self.counts)
            return self.mapping(value, depth, top)
        if isinstance(value, list):
            if depth >= MAX_DEPTH:
                return r._deep(value, self.counts)
            out = [self.value(item, depth + 1, False) for item in value]
            changed = any(a is not b for a, b in zip(out, value, strict=True))
            return out if changed else value
        if type(value) is int and r._cards and _CARD_INT_MIN <= abs(value) < _CARD_INT_MAX:
            return r._number(value, self.counts, STATIC_RULES["card"])
        return value

    def mapping(self, value: dict[Any, Any], depth: int, top: bool) -> dict[Any, Any]:
        r = self.redactor
        out: dict[Any, Any] = {}
        changed = False
        classify = r._classifier.classify
        for key, item in value.items():
            if top and key in PROTECTED_KEYS:
                out[key] = item
                continue
            new_key = key
            kind = KeyClass.PLAIN
            if isinstance(key, str):
                new_key = r._text(key, self.counts, self.key_active)
                kind = classify(key)
            new_item = self.field(kind, item, depth)
            changed = changed or new_item is not item or new_key is not key
            out[new_key] = new_item
        return out if changed else value

    def field(self, kind: KeyClass, item: Any, depth: int) -> Any:
        """A value under a classified key: a secret, a name, a phone number, or walked on."""
        r = self.redactor
        if kind is KeyClass.DENY and item is not None and not isinstance(item, bool):
            text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
            masked = r._keyed("secret", text)
            if masked is not None:
                self.counts["secret"] += 1
                return item if r._audit else masked
            return item
        if (
            kind in (KeyClass.NAME, KeyClass.GENERIC_NAME)
            and isinstance(item, str)
            and name_value_ok(item, kind is KeyClass.GENERIC_NAME)
        ):
            masked = r._keyed("name", item)
            if masked is not None:
                self.counts["name"] += 1
                return item if r._audit else masked
            return item
        if kind is KeyClass.VERSION and isinstance(item, str):
            return r._text(item, self.counts, [x for x in self.active if x.name != "ipv4"])
        if kind is KeyClass.PHONE and r._phone:
            if isinstance(item, str):
                return r._text(item, self.counts, self.active, keyed=True)
            if type(item) is int and item > 0:
                return r._number(item, self.counts, STATIC_RULES["phone"])
        return self.value(item, depth + 1, False)


def _collect(value: Any, texts: list[str], keys: list[str], depth: int, top: bool = False) -> None:
    """Every string value in ``value`` (and integers long enough to be cards), and its keys.

    At the top of a record (``top``) the protected keys and their values are left out.
    """
    if isinstance(value, str):
        texts.append(value)
    elif isinstance(value, dict):
        if depth < MAX_DEPTH:
            for key, item in value.items():
                if top and key in PROTECTED_KEYS:
                    continue
                if isinstance(key, str):
                    keys.append(key)
                _collect(item, texts, keys, depth + 1)
        else:
            texts.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, list):
        if depth < MAX_DEPTH:
            for item in value:
                _collect(item, texts, keys, depth + 1)
        else:
            texts.append(json.dumps(value, ensure_ascii=False))
    elif type(value) is int and abs(value) >= _CARD_INT_MIN:
        texts.append(str(value))


def _alternation(keys: tuple[str, ...] | list[str]) -> str:
    """Keys as one RE2 alternation: words joined by any run of separators, longest first."""
    patterns = {r"[\W_]*".join(re.escape(w) for w in key_words(k)) for k in keys}
    return "|".join(sorted(patterns, key=len, reverse=True))
