"""N+1 detection by statement shape and call site, whether or not an ORM hook fired.

A group is every SELECT of one fingerprint from one call site; it is an N+1 when it has at least
`threshold` members whose parameters differ. Groups that read a relation of the rows an earlier
group loaded (`review.enrollment.user`) are folded into one chain, so one fix is reported per
chain; the root rows are found from the query that loaded them (or from the eager load that
brought them in), and that query's line is the finding's `origin`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from perftoolkit.core.diagnosis.fixes import (
    Chain,
    Step,
    fix_for,
    keep_ordering,
    nest_fix,
    short,
    usable,
)
from perftoolkit.core.events import (
    CallSite,
    Choices,
    EagerLoad,
    QueryEvent,
    Relation,
    RelationVia,
    RequestProfile,
)
from perftoolkit.core.findings import DetectionOptions, Finding, Fix
from perftoolkit.core.fingerprint import is_count, normalize, statement_kind

_SINGLE = ("forward", "reverse_one")


@dataclass(slots=True)
class Group:
    fingerprint: str
    callsite: CallSite | None
    indexes: list[int] = field(default_factory=list)
    relation: Relation | None = None
    lookups: tuple[Relation, ...] = ()

    @property
    def first(self) -> int:
        return self.indexes[0]


def detect_nplusone(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
    queries = profile.queries
    groups = per_row_groups(queries, options.nplusone_threshold)
    if not groups:
        return []
    grouped = {i for g in groups for i in g.indexes}
    chains = _chains(groups, queries, profile.loaded)
    findings: list[Finding] = []
    counted: list[tuple[int, str]] = []  # findings whose per-row use was a plain count/exists
    for chain_groups, shared in chains:
        finding = _finding(profile, chain_groups, grouped, shared)
        if finding is not None:
            last = chain_groups[-1].relation
            if last is not None and last.via in ("count", "exists") and last.many:
                counted.append((len(findings), last.via))
            findings.append(finding)
    return _share_prefetches(findings, counted)


def _share_prefetches(findings: list[Finding], counted: list[tuple[int, str]]) -> list[Finding]:
    """A relation both iterated and counted per row: the prefetch the iteration needs also answers
    `.count()` / `.exists()` (from the prefetched rows), so one fix serves both."""
    prefetches = {
        (f.model, f.path): f.fix
        for f in findings
        if f.fix is not None and f.fix.code == f'.prefetch_related("{f.path}")'
    }
    for index, via in counted:
        finding = findings[index]
        fix = prefetches.get((finding.model, finding.path))
        if fix is not None:
            note = f"the prefetch the rows' iteration needs also answers .{via}() without a query."
            message = (
                finding.message.replace(finding.fix.code, fix.code)
                if finding.fix
                else finding.message
            )
            findings[index] = replace(
                finding, fix=Fix(fix.action, fix.code, note=note), message=message
            )
    return findings


def per_row_groups(queries: tuple[QueryEvent, ...], threshold: int) -> list[Group]:
    by_key: dict[tuple[str, CallSite | None], Group] = {}
    for index, query in enumerate(queries):
        if query.many or statement_kind(query.sql) != "SELECT":
            continue
        key = (query.fingerprint, query.callsite)
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = Group(query.fingerprint, query.callsite)
        group.indexes.append(index)
    found = []
    for group in (part for g in by_key.values() for part in _by_relation(g, queries)):
        members = [queries[i] for i in group.indexes]
        if len(members) < threshold:
            continue
        if not is_per_row(members, threshold):
            continue
        relations = Counter(q.relation for q in members if q.relation is not None)
        group.relation = relations.most_common(1)[0][0] if relations else None
        group.lookups = next((q.lookups for q in members if q.lookups), ())
        found.append(group)
    return sorted(found, key=lambda g: g.first)


def _by_relation(group: Group, queries: tuple[QueryEvent, ...]) -> list[Group]:
    """One line's statement read through two relations (`{{ topic.category.parent }}`: two
    foreign keys to one table, the same statement): a group per relation, each its own N+1 or
    link of a chain. Runs with no relation go with the largest."""
    parts: dict[tuple[str, str] | None, list[int]] = {}
    for index in group.indexes:
        relation = queries[index].relation
        parts.setdefault(None if relation is None else (relation.model, relation.field), []).append(
            index
        )
    unknown = parts.pop(None, [])
    if len(parts) <= 1:
        return [group]
    largest = max(parts.values(), key=len)
    largest.extend(unknown)
    largest.sort()
    return [Group(group.fingerprint, group.callsite, indexes) for indexes in parts.values()]


def is_per_row(members: list[QueryEvent], threshold: int) -> bool:
    """One line ran the statement once per row: a relation read on each row (even when every row
    points at the same related row: an empty cache per instance), or differing parameters.
    The same parameters every time with no relation, or with a relation of one object read again,
    is a duplicate: hoist it, don't prefetch it."""
    if len(members) < threshold:
        return False
    keys = {q.params_key for q in members}
    relations = [q.relation for q in members if q.relation is not None]
    same = len(keys) == 1 and None not in keys
    if relations and not (same and any(r.constant or r.same_object for r in relations)):
        return True
    # A relation of one object (the same on the runs analysed: `constant`, `same_object`) read with
    # the same parameters every time is one query repeated, not a query per row.
    return len(keys) > 1 or None in keys


def _chains(
    groups: list[Group], queries: tuple[QueryEvent, ...], tracked: frozenset[str] = frozenset()
) -> list[tuple[list[Group], int]]:
    """Fold a group into the chain one of whose relations loaded the rows it reads a relation of:
    after its last, or, when an earlier one did (`plan.recipe.keywords` and
    `plan.recipe.created_by`), as a chain of its own from there, whose first groups it shares
    (their count goes with each chain; their queries are counted once, in the first).

    `tracked` are the models whose rows the capture knows the query of (`loaded`): when a link
    loads those, a group whose rows no run of the link built is not read on the link's rows (a
    revision's own `previous_revision`, beside its article's current revision, also a revision)."""
    chains: list[tuple[list[Group], int]] = []
    for group in groups:
        parent: list[Group] | None = None
        at = 0
        if group.relation is not None:
            for chain, _ in chains:
                at = next(
                    (
                        k
                        for k in range(len(chain) - 1, -1, -1)
                        if _loads_rows_of(chain[k], group)
                        and not _built_elsewhere(chain[k], group, queries, tracked)
                    ),
                    -1,
                )
                if at >= 0:
                    parent = chain
                    break
        if parent is None:
            chains.append(([group], 0))
        elif at == len(parent) - 1:
            parent.append(group)
        else:
            shared = parent[: at + 1]
            twin = next((c for c, _ in chains if _ends_like(c, shared, group)), None)
            if twin is not None:
                # The same relation read on another line after the same links (Shift.event in
                # LocalParticipation.__str__ and in Shift.__str__): one chain, one fix.
                twin[-1].indexes = sorted(twin[-1].indexes + group.indexes)
            else:
                chains.append(([*shared, group], at + 1))
    return chains


def _ends_like(chain: list[Group], links: list[Group], group: Group) -> bool:
    """Whether `chain` is `links` followed by a read of `group`'s relation."""
    last = chain[-1].relation
    return (
        len(chain) == len(links) + 1
        and all(a is b for a, b in zip(chain, links, strict=False))
        and last is not None
        and group.relation is not None
        and (last.model, last.field) == (group.relation.model, group.relation.field)
    )


def _loads_rows_of(link: Group, group: Group) -> bool:
    """Whether `link`'s single relation loaded, one row per run, the rows `group` reads from."""
    relation = link.relation
    return (
        relation is not None
        and group.relation is not None
        and not relation.many
        and relation.kind in _SINGLE
        and relation.target == group.relation.model
        and group.first > link.first
        and (link.callsite == group.callsite or _interleaved(link, group))
    )


def _built_elsewhere(
    link: Group, group: Group, queries: tuple[QueryEvent, ...], tracked: frozenset[str]
) -> bool:
    """Whether the capture says `group`'s rows were not built by `link`'s runs: the link's rows
    were tracked, every run of the group that names its rows' query names one, and none is the
    link's."""
    relation = link.relation
    if relation is None or relation.target not in tracked:
        return False
    built = [queries[i].rows_from for i in group.indexes]
    if any(b is None for b in built):
        return False
    runs = set(link.indexes)
    return not any(b in runs for b in built)


def _interleaved(a: Group, b: Group) -> bool:
    """Each of b's queries follows one of a's before the next of a's: one loop reads both."""
    if len(b.indexes) > len(a.indexes):
        return False
    pointer = 0
    a_idx = a.indexes + [10**12]
    for index in b.indexes:
        while pointer + 1 < len(a_idx) and a_idx[pointer + 1] < index:
            pointer += 1
        if not (a_idx[pointer] < index < a_idx[pointer + 1]):
            return False
        pointer += 1
    return True


def _finding(
    profile: RequestProfile, chain: list[Group], grouped: set[int], shared: int = 0
) -> Finding | None:
    queries = profile.queries
    head = chain[0]
    members = [queries[i] for g in chain for i in g.indexes]
    own = sum(len(g.indexes) for g in chain[shared:])  # not the groups another chain counts
    example = queries[head.indexes[-1]]
    relations = [g.relation for g in chain if g.relation is not None]
    lookup = None
    if not relations:
        root_event = _at(queries, _root_event(queries, head.first, None, grouped))
        root_model = root_event.model if root_event is not None else None
        lookup = next((r for r in head.lookups if r.model == root_model), None)
        if lookup is None and head.lookups:
            lookup = head.lookups[0]
        if lookup is None:
            return _unattributed(profile, head, example, root_event, members)
        via = next((q.relation.via for q in members if q.relation), None) or _via_of(
            example, lookup
        )
        relations = [replace(lookup, via=via, prefetched=False)]
    first_rel = relations[0]
    built = _rows_from(queries, members)
    eager = _eager_prefix(profile, first_rel.model, head.first, built)
    root_model = eager.model if eager is not None else first_rel.model
    root_index = _root_event(queries, head.first, root_model, grouped, eager)
    if built is not None and built >= 0:
        if eager is not None:
            root_index = _eager_source(queries, built)
        elif queries[built].model == first_rel.model and not queries[built].prefetch:
            root_index = built  # the query whose rows the relation was read on
    root_event = _at(queries, root_index)
    steps: list[Step] = []
    if eager is not None:
        steps.extend(
            Step(model, name, kind == "prefetch") for (model, name), kind in _hop_kinds(eager)
        )
    steps.extend(
        Step(r.model, r.field, r.many, r.kind == "generic", r.query_name) for r in relations
    )
    # The statement a fix repeats the filters of is the last relation's (a count after a chain).
    last_runs = [queries[i] for i in chain[-1].indexes]
    quoted = next((q for q in [*last_runs, *members] if q.source), None)
    source = quoted.source if quoted is not None else None
    function = head.callsite.function if head.callsite else ""
    # The rows queried in the function that reads each row: its variables are there too.
    rows_at = rows_origin(root_event, profile, example, root_model)
    same_function = (
        rows_at is not None
        and head.callsite is not None
        and (rows_at.file, rows_at.function) == (head.callsite.file, head.callsite.function)
    )
    chain_desc = Chain(
        root=root_model,
        steps=tuple(steps),
        last=relations[-1],
        eager_prefix=len(eager.hops) if eager else 0,
        source=source,
        function=function,
        lookup=lookup,
        local_names=quoted.local_names if quoted is not None and not same_function else (),
    )
    fix = fix_for(chain_desc)
    if fix is not None and root_event is not None and root_event.default_ordering:
        fix = keep_ordering(fix, root_event.default_ordering)
    origin = rows_origin(root_event, profile, example, root_model)
    loaded_model = root_model
    parent = root_event.relation if root_event is not None else None
    if parent is not None and parent.many and root_index is not None:
        if parent.via == "all" and not parent.ordering:
            # The rows are one object's related set, read whole (`course.sections.all()`, a
            # nested serializer): a prefetch of that set on the parent's queryset serves it.
            fix = nest_fix(fix, parent) if fix is not None else None
            parent_index = _root_event(queries, root_index, parent.model, grouped)
            origin = rows_origin(_at(queries, parent_index), profile, example, parent.model)
            loaded_model = parent.model
        elif root_event is not None and root_event.callsite is not None:
            # Filtered or ordered (`tag.books.order_by("id")`): that clone re-queries past any
            # prefetch, so the fix goes on the set's own queryset, where it is queried.
            origin = root_event.callsite
    # Rows a form's select or a model field's get_choices() listed: the place to load the
    # relation is that field's queryset, which no line of the view builds.
    choices = root_event.choices if root_event is not None and loaded_model == root_model else None
    if choices is not None:
        origin = choices.site
    arrows = " → ".join(f"{short(s.model)}.{s.field}" for s in steps)
    per_row = {
        "count": ".count()",
        "exists": ".exists()",
        "filter": ".filter()",
        "aggregate": ".aggregate()",
        "get_one": ".get()",
    }.get(relations[-1].via, "")
    where = f" at {head.callsite}" if head.callsite else ""
    # Through a many-valued step (Document.notes → Note.user) it runs once per row of that set,
    # not once per root row; the fix still goes on the root rows' queryset.
    unit = steps[-1].model if any(step.many for step in steps[:-1]) else root_model
    if relations[-1].prefetched:
        call = "get()/.first" if relations[-1].via == "get_one" else relations[-1].via
        where += f" (a prefetch of {relations[-1].field} exists, but .{call}() bypasses it)"
    load = f" where the {short(loaded_model)} rows are queried ({origin})" if origin else ""
    if fix is not None and choices is not None:
        remedy, note = _choices_remedy(choices, fix.code, short(root_model))
        fix = replace(fix, note=note)
    elif fix is not None and fix.action == "select_related" and _listed(profile, root_event):
        fix = replace(fix, note=_list_select_related(chain_desc.path))
        remedy = f"; add {fix.code}{load}, or {fix.note}."
    elif fix is not None:
        remedy = f"; add {fix.code}{load}."
    else:
        names = f"{chain_desc.path}__{chain_desc.lookup_path}__{parent.field if parent else ''}"
        hidden = next((n for n in names.split("__") if n and not usable(n)), "")
        if hidden:
            remedy = (
                f"; no select_related/prefetch_related lookup can name {hidden}: load the rows "
                f"once (a prefetch of a visible relation, in_bulk or an annotation){load} instead "
                "of once per row."
            )
        else:  # no exact code: say what to do
            remedy = (
                f"; read it in the query of the {short(loaded_model)} rows instead (an annotation "
                f"or a prefetch){load}."
            )
    return Finding(
        kind="n_plus_one",
        method=profile.method,
        route=profile.route,
        model=root_model,
        field=steps[0].field.split("__")[0],
        path=chain_desc.path,
        repeats=own,
        fingerprint=head.fingerprint,
        sql_example=normalize(example.sql),
        callsite=head.callsite,
        origin=origin,
        fix=fix,
        severity="warning",
        message=(
            f"N+1: {arrows}{per_row} runs once per {short(unit)} row ({own} queries){where}{remedy}"
        ),
    )


def _via_of(event: QueryEvent, lookup: Relation) -> RelationVia:
    head = event.sql.lstrip()[:40].upper()
    if is_count(event.sql):
        return "count"
    if (
        head.startswith("SELECT 1 AS")
        or "LIMIT 1" in event.sql.upper()[-20:]
        and "SELECT 1" in head
    ):
        return "exists"
    return lookup.via if lookup.via != "get" else "filter"


def _unattributed(
    profile: RequestProfile,
    head: Group,
    example: QueryEvent,
    root: QueryEvent | None,
    members: list[QueryEvent],
) -> Finding:
    """Same statement per row, but no relation or foreign key says which: report the shape.

    The rows are named only with evidence: the capture saw which query built the objects read,
    or the last rows query before the repeats ran from the same function (a loop over them there).
    Otherwise the nearest query is anyone's (a form's choices, a middleware's lookup, a cache
    read): no model and no origin rather than a wrong one."""
    repeats = len(members)
    where = f" at {head.callsite}" if head.callsite else ""
    # Which rows it loads: several such findings at one line (a descriptor of the project's own
    # loading each kind of row) are told apart.
    rows = f" of {short(example.model)} rows" if example.model else ""
    origin = profile.queryset_site
    built = _rows_from(profile.queries, members)
    if built is not None and built >= 0:
        root = profile.queries[built]
    elif root is not None and not _same_function(root.callsite, head.callsite):
        root = origin = None
    if root is not None:
        origin = root.callsite
    return Finding(
        kind="n_plus_one",
        method=profile.method,
        route=profile.route,
        model=root.model if root is not None else example.model,
        field=None,
        path=None,
        repeats=repeats,
        fingerprint=head.fingerprint,
        sql_example=normalize(example.sql),
        callsite=head.callsite,
        origin=origin,
        fix=None,
        severity="warning",
        message=(
            f"N+1: the same query{rows} ran {repeats} times{where} with different parameters; "
            "load the rows once (in_bulk, a prefetch or an annotation) instead of once per row."
        ),
    )


def _same_function(a: CallSite | None, b: CallSite | None) -> bool:
    """Both lines in one function of one file: the rows queried, then looped over there. (Another
    function of the file is anyone's: a lookup cached per process, such as a content type's, that
    ran only while its cache was cold.)"""
    return a is not None and b is not None and a.file == b.file and a.function == b.function


def _rows_from(queries: tuple[QueryEvent, ...], members: list[QueryEvent]) -> int | None:
    """The query whose rows built the objects the per-row statements read a relation of: -1 when
    no watched query did, None when the capture does not say."""
    found = next((q.rows_from for q in members if q.rows_from is not None), None)
    if found is None or found >= len(queries):
        return None
    return found


def _eager_source(queries: tuple[QueryEvent, ...], built: int) -> int | None:
    """The query whose eager loads could have built the rows query `built` built: that query
    itself (select_related), or for a prefetch's rows the last query before it that is not a
    prefetch."""
    for index in range(built, -1, -1):
        if not queries[index].prefetch:
            return index
    return None


def _eager_prefix(
    profile: RequestProfile, model: str, before: int, built: int | None = None
) -> EagerLoad | None:
    """An eager load whose path reaches `model`: the rows came in through it (a partial prefetch).

    A path may pass through `model` on its way further (`select_related("author__user")` brings
    in the Profile rows too): its leading hops are the prefix then. When several paths reach
    `model` (`author` and `article__author`), the ones the code read through win.

    When the capture says which query built the objects whose relation was read (`built`), only
    that query's own eager loads count: one that loaded no rows, or other rows, did not bring them
    in (-1: no eager load did).
    """
    source: QueryEvent | None = None
    # Rows a query built itself (not a prefetch's): only its joins (select_related) made them; a
    # prefetch of the same model (a many-to-many to itself) made other rows, in its own query.
    joined_only = False
    if built is not None:
        index = _eager_source(profile.queries, built) if built >= 0 else None
        source = profile.queries[index] if index is not None else None
        if source is None or not source.eager:
            return None
        joined_only = not profile.queries[built].prefetch
    candidates: list[EagerLoad] = []
    for load in profile.eager_loads:
        if not load.hops or (joined_only and load.kind != "select"):
            continue
        if source is not None and (
            load.model != source.model
            or not any(
                kind == load.kind and (path == load.path or path.startswith(f"{load.path}__"))
                for kind, path in source.eager
            )
        ):
            continue
        ends = [hop[0] for hop in load.hops[1:]] + [load.target]
        for count, reached in enumerate(ends, start=1):
            if reached == model:
                candidates.append(load if count == len(load.hops) else _leading(load, count, model))
                break
    read = [c for c in candidates if all(hop in profile.accessed for hop in c.hops)]
    return max(read or candidates, key=lambda c: len(c.hops), default=None)


def _leading(load: EagerLoad, count: int, target: str) -> EagerLoad:
    hops = load.hops[:count]
    return EagerLoad(
        model=load.model,
        path="__".join(field for _, field in hops),
        kind=load.kind,
        callsite=load.callsite,
        target=target,
        hops=hops,
    )


def _hop_kinds(load: EagerLoad) -> list[tuple[tuple[str, str], str]]:
    return [(hop, load.kind) for hop in load.hops]


def _root_event(
    queries: tuple[QueryEvent, ...],
    first: int,
    model: str | None,
    grouped: set[int],
    eager: EagerLoad | None = None,
) -> int | None:
    """The index of the last query before the per-row ones that loaded the root rows."""
    for index in range(first - 1, -1, -1):
        if index in grouped:
            continue
        query = queries[index]
        if query.prefetch or statement_kind(query.sql) != "SELECT":
            continue
        if eager is not None and any(
            kind == eager.kind and (path == eager.path or path.startswith(f"{eager.path}__"))
            for kind, path in query.eager
        ):
            return index
        if (model is None and query.model is not None) or (
            model is not None and query.model == model
        ):
            return index
    return None


def change_list(profile: RequestProfile) -> bool:
    """Whether the request is a ModelAdmin's change list (Django names the view
    `changelist_view`)."""
    return profile.view.rsplit(".", 1)[-1] == "changelist_view"


def _listed(profile: RequestProfile, rows: QueryEvent | None) -> bool:
    """Whether `rows` are a change list's rows: queried by Django's code for the list, not read
    through a relation."""
    return change_list(profile) and rows is not None and rows.handed_off and rows.relation is None


def _list_select_related(path: str) -> str:
    """Where a change list's join goes: its ChangeList replaces a get_queryset's select_related
    with a bare select_related() (every non-null foreign key, one that list_display names
    included) when list_select_related is False, the default."""
    return (
        f'in the ModelAdmin, list_select_related = ("{path}", …) with every other relation its '
        "list_display reads: with list_select_related False, the change list replaces the "
        "select_related of get_queryset with its own"
    )


def _choices_remedy(choices: Choices, code: str, rows: str) -> tuple[str, str]:
    """What to do about rows listed as a field's choices: the finding's remedy and the fix's
    note (where the code goes when no line of the project builds the field's queryset)."""
    if not choices.form:  # a model field's get_choices(): an admin list filter
        note = (
            "Django lists them with the field's get_choices(), which takes no select_related: "
            "list them yourself (in an admin list filter, a RelatedFieldListFilter subclass whose "
            f"field_choices() returns [(row.pk, str(row)) for row in {rows}.objects{code}])"
        )
        return (
            f"; the {rows} rows are the choices {short(choices.model)}.{choices.field} lists: "
            f"{note}.",
            note,
        )
    name = f"{choices.form}.{choices.field}"
    at = f" ({choices.site})" if choices.site is not None else ""
    if choices.declared and choices.site is not None:
        return f"; add {code} to the queryset of {name}, whose choices are the {rows} rows{at}.", ""
    field = f'self.fields["{choices.field}"]'
    note = (
        f"in the form's __init__, {field}.queryset = {field}.queryset{code}; in a ModelAdmin or "
        "an inline, formfield_for_foreignkey() can return the field with that queryset"
    )
    return (
        f"; add {code} to the queryset of {name}, whose choices are the {rows} rows{at}: {note}.",
        note,
    )


def _at(queries: tuple[QueryEvent, ...], index: int | None) -> QueryEvent | None:
    return None if index is None else queries[index]


def rows_origin(
    root: QueryEvent | None, profile: RequestProfile, example: QueryEvent, model: str
) -> CallSite | None:
    """The line where the `model` rows are queried; None rather than a line that does not.

    A template's rows are placed at the line that rendered it, but not at a template tag's render
    (`template.render(context)` in a tag or a Node): it renders rows another template holds. The
    view's queryset is the place only when the view's rows are of `model`.
    """
    site = profile.queryset_site
    rows = _view_rows(profile, site) if site is not None else None
    if root is not None and root.callsite is not None:
        own_rows = root.relation is None or not root.relation.many
        if root.handed_off and own_rows and site is not None:
            return site if rows is None or model in rows else None
        if not _is_template(root.callsite):
            return root.callsite
        if (
            own_rows
            and site is not None
            and rows is not None
            and model in rows
            and (root.render_site is None or root.render_site.file != site.file)
        ):
            # A class-based view's rows that a base view of another file renders (a generic list
            # view's render call): that line builds no queryset; the view's own does.
            return site
        if root.render_site is not None and not _in_tag(root.render_site):
            return root.render_site
    if example.render_site is not None and not _in_tag(example.render_site):
        return example.render_site
    if rows is not None and model not in rows:
        return None
    return site


def _view_rows(profile: RequestProfile, site: CallSite) -> set[str] | None:
    """The model of the view's rows: the one the view class names, else those of the rows library
    code queried for the view (a paginator, a serializer, a generic view's get_object) from a line
    of the view's own file or from no project line; None when neither is known. Not a user that
    authentication loaded elsewhere."""
    if profile.queryset_model:
        return {profile.queryset_model}
    own = {
        q.model
        for q in profile.queries
        if q.handed_off
        and not q.prefetch
        and q.model
        and (q.callsite is None or q.callsite.file == site.file)
    }
    return own or None


def _is_template(site: CallSite) -> bool:
    return not site.file.endswith(".py")


def _in_tag(site: CallSite) -> bool:
    """A line of a template tag library (Django loads them from `templatetags` packages)."""
    return "templatetags" in site.file.replace("\\", "/").split("/")[:-1]
