"""Ignore rules: findings a team decided to live with, silenced where they are produced.

A rule comes from settings (`PERFTOOLKIT["IGNORE"]`, or nplusone's `NPLUSONE_WHITELIST`, read as
the same rules) and names any of a finding's kind, model, field, route or callsite; an inline
comment `# perftoolkit: ignore[n_plus_one]` (in a template `{# perftoolkit: ignore[n_plus_one] #}`)
on the callsite line silences the findings that line caused. `IgnoreFilter` splits a detector's
output into the findings kept and the ones ignored, which stay counted and listed (report.json's
`ignored`), never silently dropped. Patterns are shell-style (`lms.*`, `GET api/legacy/*`).

Pure: reading the callsite's line is the caller's `line_at` function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from perftoolkit.core.events import CallSite
from perftoolkit.core.findings import Finding, IgnoredFinding

RULE_KEYS: tuple[str, ...] = ("kind", "model", "field", "route", "callsite", "reason")
_MATCH_KEYS = RULE_KEYS[:-1]
INLINE_RULE = "inline comment"
# `# perftoolkit: ignore[n_plus_one, duplicate_query]`, `{# perftoolkit: ignore #}` (every kind).
_INLINE = re.compile(r"(?:#|\{#)\s*perftoolkit:\s*ignore\b(?:\[(?P<kinds>[^\]]*)\])?")
# nplusone's labels that name one of our finding kinds.
_NPLUSONE_LABELS = {"n_plus_one": "n_plus_one", "unused_eager_load": "unused_eager_load"}


class IgnoreRuleError(ValueError):
    """A rule that cannot be read; the message names the entry and how to write it."""


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """Silences the findings that match every pattern it sets (an unset pattern matches all).

    >>> rule = IgnoreRule("IGNORE[0]", kinds=("n_plus_one",), model="shop.*", field="tags")
    >>> finding = Finding("n_plus_one", "GET", "books/", "…", model="shop.Book", field="tags")
    >>> rule.matches(finding), rule.matches(Finding("n_plus_one", "GET", "books/", "…"))
    (True, False)
    """

    source: str  # where it was written: "PERFTOOLKIT['IGNORE'][0]"
    kinds: tuple[str, ...] = ()
    model: str | None = None  # app_label.ModelName of the root rows
    field: str | None = None  # the relation read per row, or the whole path (author__user)
    route: str | None = None  # "api/courses/" or "GET api/courses/"
    callsite: str | None = None  # "lms/views.py", "lms/views.py:42", "lms/views.py:get_queryset"

    def matches(self, finding: Finding) -> bool:
        if self.kinds and finding.kind not in self.kinds:
            return False
        if self.model is not None and not _matches(self.model, finding.model):
            return False
        if self.field is not None and not (
            _matches(self.field, finding.field) or _matches(self.field, finding.path)
        ):
            return False
        if self.route is not None and not (
            _matches(self.route, finding.route)
            or _matches(self.route, f"{finding.method} {finding.route}")
        ):
            return False
        return self.callsite is None or _callsite_matches(self.callsite, finding.callsite)


def _matches(pattern: str, value: str | None) -> bool:
    return value is not None and fnmatchcase(value, pattern)


def _callsite_matches(pattern: str, site: CallSite | None) -> bool:
    if site is None:
        return False
    file, colon, where = pattern.rpartition(":")
    if not colon or not where or "/" in where:
        return fnmatchcase(site.file, pattern)
    if not fnmatchcase(site.file, file):
        return False
    return site.line == int(where) if where.isdigit() else fnmatchcase(site.function, where)


def parse_rules(entries: Any, *, source: str, kinds: Sequence[str] = ()) -> tuple[IgnoreRule, ...]:
    """`PERFTOOLKIT["IGNORE"]` entries → rules; `IgnoreRuleError` names the first bad one.

    `kinds` (the known finding kinds) lets a misspelt `kind` be refused rather than match nothing.

    >>> parse_rules([{"model": "shop.Book", "field": "tags"}], source="IGNORE")
    (IgnoreRule(source='IGNORE[0]', kinds=(), model='shop.Book', field='tags', route=None, callsite=None),)
    >>> parse_rules([{"reason": "legacy"}], source="IGNORE")
    Traceback (most recent call last):
    ...
    perftoolkit.core.diagnosis.ignore.IgnoreRuleError: IGNORE[0] matches every finding: give at least one of kind, model, field, route or callsite, e.g. {"model": "shop.Book", "field": "tags"}.
    """
    if not isinstance(entries, list | tuple):
        raise IgnoreRuleError(
            f"{source} must be a list of rules (dicts), not {type(entries).__name__}, e.g. "
            '[{"model": "shop.Book", "field": "tags"}].'
        )
    return tuple(_rule(entry, f"{source}[{n}]", kinds) for n, entry in enumerate(entries))


def _rule(entry: Any, where: str, kinds: Sequence[str]) -> IgnoreRule:
    if not isinstance(entry, Mapping):
        raise IgnoreRuleError(
            f'{where} must be a dict such as {{"model": "shop.Book", "field": "tags"}}, '
            f"not {entry!r}."
        )
    unknown = sorted(str(k) for k in entry if k not in RULE_KEYS)
    if unknown:
        raise IgnoreRuleError(
            f"{where} has unknown key {unknown[0]!r}; a rule's keys are {', '.join(RULE_KEYS)}."
        )
    if not any(entry.get(k) for k in _MATCH_KEYS):
        raise IgnoreRuleError(
            f"{where} matches every finding: give at least one of kind, model, field, route or "
            'callsite, e.g. {"model": "shop.Book", "field": "tags"}.'
        )
    for key in _MATCH_KEYS[1:]:
        if key in entry and not isinstance(entry[key], str):
            raise IgnoreRuleError(f"{where}: {key} must be a string, not {entry[key]!r}.")
    rule_kinds = _kinds(entry.get("kind"), where)
    if kinds:
        for kind in rule_kinds:
            if kind not in kinds:
                raise IgnoreRuleError(
                    f"{where}: kind {kind!r} is not a finding kind; use one of {', '.join(kinds)}."
                )
    return IgnoreRule(
        source=where,
        kinds=rule_kinds,
        model=entry.get("model") or None,
        field=entry.get("field") or None,
        route=entry.get("route") or None,
        callsite=entry.get("callsite") or None,
    )


def _kinds(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise IgnoreRuleError(
        f'{where}: kind must be a finding kind or a list of them ("n_plus_one"), not {value!r}.'
    )


def nplusone_rules(entries: Any, *, source: str = "NPLUSONE_WHITELIST") -> tuple[IgnoreRule, ...]:
    """nplusone's whitelist (`[{"label": "n_plus_one", "model": "shop.*", "field": "tags"}]`)
    read as nplusone reads it: its label is our kind (a label alone silences that kind
    everywhere), its model pattern (or model class) and field match the root rows' model and the
    relation read. Entries for labels we do not report, or naming nothing, are skipped.

    >>> nplusone_rules([{"label": "n_plus_one", "model": "shop.Book"}, {"label": "other"}])
    (IgnoreRule(source='NPLUSONE_WHITELIST[0]', kinds=('n_plus_one',), model='shop.Book', field=None, route=None, callsite=None),)
    """
    if not isinstance(entries, list | tuple):
        raise IgnoreRuleError(f"{source} must be a list of dicts, not {type(entries).__name__}.")
    rules = []
    for n, entry in enumerate(entries):
        where = f"{source}[{n}]"
        if not isinstance(entry, Mapping):
            raise IgnoreRuleError(f'{where} must be a dict such as {{"model": "shop.Book"}}.')
        label, model, field = entry.get("label"), entry.get("model"), entry.get("field")
        if (label is not None and label not in _NPLUSONE_LABELS) or not (label or model or field):
            continue
        # nplusone also takes the model class itself; it stands for its "app_label.Model".
        model = getattr(getattr(model, "_meta", None), "label", model)
        rules.append(
            IgnoreRule(
                source=where,
                kinds=(_NPLUSONE_LABELS[label],) if label else (),
                model=str(model) if model else None,
                field=str(field) if field else None,
            )
        )
    return tuple(rules)


def inline_kinds(line: str) -> frozenset[str] | None:
    """The kinds an inline comment on `line` ignores: None without one, empty for all kinds.

    >>> sorted(inline_kinds("for b in books:  # perftoolkit: ignore[n_plus_one]"))
    ['n_plus_one']
    >>> inline_kinds("{{ book.author }} {# perftoolkit: ignore #}"), inline_kinds("x = 1")
    (frozenset(), None)
    """
    found = _INLINE.search(line)
    if found is None:
        return None
    listed = found.group("kinds")
    return frozenset(k.strip() for k in (listed or "").split(",") if k.strip())


@dataclass(frozen=True, slots=True)
class IgnoreFilter:
    """Splits findings into kept and ignored: inline comments first, then each rule in order.

    `line_at` returns the source text of a callsite's line (None when unreadable); without it
    inline comments are not looked for.
    """

    rules: tuple[IgnoreRule, ...] = ()
    line_at: Callable[[CallSite], str | None] | None = None

    def __call__(self, findings: Sequence[Finding]) -> tuple[list[Finding], list[IgnoredFinding]]:
        kept: list[Finding] = []
        ignored: list[IgnoredFinding] = []
        for finding in findings:
            rule = self.rule_for(finding)
            if rule is None:
                kept.append(finding)
            else:
                ignored.append(IgnoredFinding(finding, rule))
        return kept, ignored

    def rule_for(self, finding: Finding) -> str | None:
        """The name of the rule that silences `finding`, or None."""
        if self.line_at is not None and finding.callsite is not None:
            line = self.line_at(finding.callsite)
            kinds = inline_kinds(line) if line else None
            if kinds is not None and (not kinds or finding.kind in kinds):
                return INLINE_RULE
        for rule in self.rules:
            if rule.matches(finding):
                return rule.source
        return None


def describe_ignored(items: Sequence[IgnoredFinding]) -> str:
    """The count every view shows, by rule: "3 findings ignored (2 by IGNORE[0], 1 by inline
    comment)"; empty when nothing was ignored.

    >>> f = Finding("n_plus_one", "GET", "x/", "…")
    >>> describe_ignored([IgnoredFinding(f, "IGNORE[0]")])
    '1 finding ignored (IGNORE[0])'
    """
    if not items:
        return ""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.rule] = counts.get(item.rule, 0) + 1
    if len(counts) == 1:
        rules = next(iter(counts))
    else:
        rules = ", ".join(f"{n} by {rule}" for rule, n in sorted(counts.items()))
    return f"{len(items)} finding{'s' if len(items) != 1 else ''} ignored ({rules})"
