"""What one request did, as plain data: its queries, where they came from, its cache use.

The instrumentation builds these from Django objects after the response; detectors, the
recorder and the report builder read only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

# How a relation was read on a row, as the ORM reports it:
#   forward       ForeignKey / OneToOneField read from the side that holds the column
#   reverse_one   the other side of a OneToOneField (user.profile)
#   reverse_many  the other side of a ForeignKey (course.sections)
#   many          ManyToManyField, either side
#   generic       GenericForeignKey
#   generic_many  GenericRelation
RelationKind = Literal["forward", "reverse_one", "reverse_many", "many", "generic", "generic_many"]
# What was done with it: a plain attribute read, or a related-manager call.
RelationVia = Literal["get", "all", "count", "exists", "filter", "aggregate", "get_one", "other"]


@dataclass(frozen=True, slots=True)
class CallSite:
    """A place in the project's code (or a template): file relative to the project root."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CallSite | None:
        if not data:
            return None
        return cls(
            file=str(data["file"]), line=int(data["line"]), function=str(data.get("function", ""))
        )


@dataclass(frozen=True, slots=True)
class Relation:
    """The ORM relation whose read fired a query: `model.field` on a row of `model`."""

    model: str  # app_label.ModelName the attribute was read on
    field: str  # the attribute name (accessor): "enrollment", "tags", "profile"
    kind: RelationKind
    target: str  # app_label.ModelName of the related rows
    via: RelationVia = "get"
    prefetched: bool = False  # a prefetch for this relation existed and was bypassed
    related_query_name: str = (
        ""  # how `target` names `model` in lookups ("course" for course.sections)
    )
    # A membership test: one `target` object (the same on every run) asked whether each row is
    # in its set (`me.favorites.filter(pk=article.pk).exists()`), read here from the row's side
    # (`Article.favorited_by`, filtered to that object).
    constant: bool = False
    # The related set's own order_by (`self.authors.order_by("name")`): the clone it makes runs
    # a new query even when the set was prefetched.
    ordering: tuple[str, ...] = ()
    # How lookups from `model` name the relation when that is not `field`: `comment` for the
    # accessor `comment_set` (annotations and filters need it; prefetch_related takes `field`).
    query_name: str = ""
    # The first two runs read it on the same object with the same parameters: when every run has
    # the same parameters, one read repeated (a duplicate query), not a read per row.
    same_object: bool = False
    # The related model's default manager leaves rows out (`exclude(state="draft")`): a related
    # set counts without them, an annotation over the relation (Count, Sum) would not.
    filtered: bool = False

    @property
    def lookup(self) -> str:
        return self.query_name or self.field

    @property
    def many(self) -> bool:
        return self.kind in ("reverse_many", "many", "generic_many")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model,
            "field": self.field,
            "kind": self.kind,
            "target": self.target,
            "via": self.via,
            "prefetched": self.prefetched,
            "related_query_name": self.related_query_name,
        }
        if self.constant:
            data["constant"] = True
        if self.ordering:
            data["ordering"] = list(self.ordering)
        if self.query_name:
            data["query_name"] = self.query_name
        if self.same_object:
            data["same_object"] = True
        if self.filtered:
            data["filtered"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Relation | None:
        if not data:
            return None
        return cls(
            model=str(data["model"]),
            field=str(data["field"]),
            kind=cast(RelationKind, str(data["kind"])),
            target=str(data["target"]),
            via=cast(RelationVia, str(data.get("via", "get"))),
            prefetched=bool(data.get("prefetched", False)),
            related_query_name=str(data.get("related_query_name", "")),
            constant=bool(data.get("constant", False)),
            ordering=tuple(str(o) for o in data.get("ordering", [])),
            query_name=str(data.get("query_name", "")),
            same_object=bool(data.get("same_object", False)),
            filtered=bool(data.get("filtered", False)),
        )


class Refs:
    """The tables of one serialised request: each callsite and relation is written once and the
    queries refer to it by index (an N+1 of 20 repeats the same ones 20 times)."""

    def __init__(self, data: dict[str, Any] | None = None, *, inline: bool = False) -> None:
        self.inline = inline
        data = data or {}
        self._sites: list[Any] = list(data.get("sites", []))
        self._relations: list[Any] = list(data.get("relations", []))
        self._site_index: dict[CallSite, int] = {}
        self._relation_index: dict[Relation, int] = {}

    def site(self, site: CallSite) -> Any:
        if self.inline:
            return site.to_dict()
        index = self._site_index.get(site)
        if index is None:
            index = self._site_index[site] = len(self._sites)
            self._sites.append(site.to_dict())
        return index

    def relation(self, relation: Relation) -> Any:
        if self.inline:
            return relation.to_dict()
        index = self._relation_index.get(relation)
        if index is None:
            index = self._relation_index[relation] = len(self._relations)
            self._relations.append(relation.to_dict())
        return index

    def load_site(self, value: Any) -> CallSite | None:
        return CallSite.from_dict(self._sites[value] if isinstance(value, int) else value)

    def load_relation(self, value: Any) -> Relation | None:
        return Relation.from_dict(self._relations[value] if isinstance(value, int) else value)

    def tables(self) -> dict[str, list[Any]]:
        return {"sites": self._sites, "relations": self._relations}


@dataclass(frozen=True, slots=True)
class Choices:
    """Rows a query listed as a field's choices: a form field's select (`form`, and `model` for a
    model form), or a model field's `get_choices()` (`model` only: what an admin list filter and
    a form's choices of the field list). `site` is the project line declaring the form field
    (`declared`: with its queryset), or naming it in its form's Meta.fields."""

    field: str
    form: str = ""
    model: str = ""
    site: CallSite | None = None
    declared: bool = False

    def to_dict(self, site_ref: Any) -> dict[str, Any]:
        """As JSON; `site_ref` turns the site into what the line holds (an index, or a dict)."""
        data: dict[str, Any] = {"field": self.field}
        if self.form:
            data["form"] = self.form
        if self.model:
            data["model"] = self.model
        if self.site is not None:
            data["site"] = site_ref(self.site)
        if self.declared:
            data["declared"] = True
        return data

    @classmethod
    def from_dict(cls, data: Any, refs: Refs) -> Choices | None:
        if not isinstance(data, dict):
            return None
        return cls(
            field=str(data["field"]),
            form=str(data.get("form", "")),
            model=str(data.get("model", "")),
            site=refs.load_site(data.get("site")),
            declared=bool(data.get("declared", False)),
        )


@dataclass(frozen=True, slots=True)
class QueryEvent:
    """One executed statement. `sql` keeps placeholders; parameter values never appear here."""

    sql: str
    fingerprint: str
    ms: float
    alias: str = "default"
    callsite: CallSite | None = None
    # The Python line that rendered the template when `callsite` is a template line.
    render_site: CallSite | None = None
    relation: Relation | None = None
    # app_label.ModelName of the rows this statement loaded, when a queryset ran it.
    model: str | None = None
    # Equal within one request exactly when the parameters were equal; meaningless across requests.
    params_key: str | None = None
    many: bool = False
    # The eager loads of the queryset that ran this statement: ("select", "a__b"), ("prefetch", "tags").
    eager: tuple[tuple[str, str], ...] = ()
    # Source text of the project statement at `callsite`, for fixes that repeat the user's filters.
    source: str | None = None
    # For a statement no relation fired (`Enrollment.objects.filter(course=obj)`): each foreign key
    # it filters on, as the relation it reads from the other side (Course.enrollments).
    lookups: tuple[Relation, ...] = ()
    # True for the query prefetch_related ran (eager, not per row).
    prefetch: bool = False
    # The project line at `callsite` passed the queryset to library code that ran it (a paginator,
    # a generic view, a serializer): the rows' queryset was built elsewhere.
    handed_off: bool = False
    # The model's Meta.ordering, when the rows' queryset relied on it (no order_by of its own):
    # Django drops it from any query with a GROUP BY, so an aggregate fix must restate it.
    default_ordering: tuple[str, ...] = ()
    # For a statement that read a relation of one object: the index (in this request) of the query
    # whose rows built that object; -1 when no query perftoolkit watched built it (then no eager
    # load of the request brought it in); None when not known.
    rows_from: int | None = None
    # The statement saved the request's session (library code, as the response went out):
    # `callsite` is then the line that modified the session, the write's cause.
    session: bool = False
    # The rows it loaded were listed as a field's choices (a form's select, a list filter).
    choices: Choices | None = None
    # A write from a model's own method (`callsite`, in its save() or a property): the project
    # line that called the method.
    caller: CallSite | None = None
    # The names `source` reads that its function binds (parameters, variables): a fix placed in
    # another function cannot use them.
    local_names: tuple[str, ...] = ()

    def to_row(self, refs: Refs) -> list[Any]:
        extra: dict[str, Any] = {}
        if self.alias != "default":
            extra["alias"] = self.alias
        if self.render_site:
            extra["render_site"] = refs.site(self.render_site)
        if self.many:
            extra["many"] = True
        if self.eager:
            extra["eager"] = [list(e) for e in self.eager]
        if self.source:
            extra["source"] = self.source
            if self.local_names:
                extra["locals"] = list(self.local_names)
        if self.lookups:
            extra["lookups"] = [refs.relation(r) for r in self.lookups]
        if self.prefetch:
            extra["prefetch"] = True
        if self.handed_off:
            extra["handed_off"] = True
        if self.default_ordering:
            extra["default_ordering"] = list(self.default_ordering)
        if self.rows_from is not None:
            extra["rows_from"] = self.rows_from
        if self.session:
            extra["session"] = True
        if self.choices is not None:
            extra["choices"] = self.choices.to_dict(refs.site)
        if self.caller is not None:
            extra["caller"] = refs.site(self.caller)
        return query_row(
            self.fingerprint,
            self.ms,
            refs.site(self.callsite) if self.callsite else None,
            refs.relation(self.relation) if self.relation else None,
            self.model,
            self.params_key,
            extra,
        )

    @classmethod
    def from_row(cls, row: list[Any], statements: dict[str, str], refs: Refs) -> QueryEvent:
        values = dict(zip(ROW_FIELDS, row, strict=False))
        extra = values.pop("extra", None) or {}
        return cls.from_dict(
            {"sql": statements.get(values["fingerprint"], ""), **values, **extra}, refs
        )

    def to_dict(self, refs: Refs | None = None) -> dict[str, Any]:
        """As JSON; with `refs`, callsites and relations become indexes into shared tables."""
        refs = refs or Refs(inline=True)
        data: dict[str, Any] = {
            "sql": self.sql,
            "fingerprint": self.fingerprint,
            "ms": round3(self.ms),
        }
        if self.alias != "default":
            data["alias"] = self.alias
        if self.callsite:
            data["callsite"] = refs.site(self.callsite)
        if self.render_site:
            data["render_site"] = refs.site(self.render_site)
        if self.relation:
            data["relation"] = refs.relation(self.relation)
        if self.model:
            data["model"] = self.model
        if self.params_key:
            data["params_key"] = self.params_key
        if self.many:
            data["many"] = True
        if self.eager:
            data["eager"] = [list(e) for e in self.eager]
        if self.source:
            data["source"] = self.source
            if self.local_names:
                data["locals"] = list(self.local_names)
        if self.lookups:
            data["lookups"] = [refs.relation(r) for r in self.lookups]
        if self.prefetch:
            data["prefetch"] = True
        if self.handed_off:
            data["handed_off"] = True
        if self.default_ordering:
            data["default_ordering"] = list(self.default_ordering)
        if self.rows_from is not None:
            data["rows_from"] = self.rows_from
        if self.session:
            data["session"] = True
        if self.choices is not None:
            data["choices"] = self.choices.to_dict(refs.site)
        if self.caller is not None:
            data["caller"] = refs.site(self.caller)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], refs: Refs | None = None) -> QueryEvent:
        refs = refs or Refs(inline=True)
        return cls(
            sql=str(data["sql"]),
            fingerprint=str(data["fingerprint"]),
            ms=float(data.get("ms", 0.0)),
            alias=str(data.get("alias", "default")),
            callsite=refs.load_site(data.get("callsite")),
            render_site=refs.load_site(data.get("render_site")),
            relation=refs.load_relation(data.get("relation")),
            model=data.get("model"),
            params_key=data.get("params_key"),
            many=bool(data.get("many", False)),
            eager=tuple((str(k), str(p)) for k, p in data.get("eager", [])),
            source=data.get("source"),
            lookups=tuple(r for r in (refs.load_relation(x) for x in data.get("lookups", [])) if r),
            prefetch=bool(data.get("prefetch", False)),
            handed_off=bool(data.get("handed_off", False)),
            default_ordering=tuple(str(o) for o in data.get("default_ordering", [])),
            rows_from=_index(data.get("rows_from")),
            session=bool(data.get("session", False)),
            choices=Choices.from_dict(data.get("choices"), refs),
            caller=refs.load_site(data.get("caller")),
            local_names=tuple(str(n) for n in data.get("locals", ())),
        )


# A query in a recording line is a row, not an object: recordings hold thousands of requests, and
# rows encode in about half the time. Fixed positions, then the rare fields in one dict, trailing
# nulls dropped:  [fingerprint, ms, callsite, relation, model, params_key, {alias, render_site,
# many, eager, source, lookups, prefetch, handed_off, default_ordering, rows_from, session,
# choices, caller, locals}]
# (callsite, relation and lookups index the line's tables).
ROW_FIELDS = ("fingerprint", "ms", "callsite", "relation", "model", "params_key", "extra")


def round3(value: float) -> float:
    """`round(value, 3)` for the non-negative times recorded (milliseconds), without round()'s
    decimal conversion, which cost as much as the rest of a query-free request's line: the
    nearest multiple of 0.001 (a tie in the last digit may go the other way)."""
    return (value * 1000.0 + 0.5) // 1.0 / 1000.0


def round6(value: float) -> float:
    """`round(value, 6)` for UNIX times, as `round3`."""
    return (value * 1e6 + 0.5) // 1.0 / 1e6


def query_row(
    fingerprint: str,
    ms: float,
    callsite: Any,
    relation: Any,
    model: str | None,
    params_key: str | None,
    extra: dict[str, Any] | None,
) -> list[Any]:
    """One recording row; trailing nulls dropped (shared by QueryEvent and the recorder)."""
    row = [fingerprint, round3(ms), callsite, relation, model, params_key, extra or None]
    while row[-1] is None:
        row.pop()
    return row


@dataclass(frozen=True, slots=True)
class CacheStats:
    gets: int = 0
    hits: int = 0

    @property
    def misses(self) -> int:
        return self.gets - self.hits

    def __add__(self, other: CacheStats) -> CacheStats:
        return CacheStats(self.gets + other.gets, self.hits + other.hits)

    def to_dict(self) -> dict[str, int]:
        return {"gets": self.gets, "hits": self.hits}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CacheStats:
        data = data or {}
        return cls(gets=int(data.get("gets", 0)), hits=int(data.get("hits", 0)))


@dataclass(frozen=True, slots=True)
class EagerLoad:
    """A select_related / prefetch_related path a queryset asked for."""

    model: str  # the queryset's model
    path: str  # "enrollment__user"
    kind: str  # "select" | "prefetch"
    callsite: CallSite | None = None
    target: str = ""  # app_label.Model the path ends on
    # The path as (model, attribute) reads: (("lms.CourseReview", "enrollment"), ("lms.Enrollment", "user")).
    hops: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"model": self.model, "path": self.path, "kind": self.kind}
        if self.callsite:
            data["callsite"] = self.callsite.to_dict()
        if self.hops:
            data["hops"] = [list(h) for h in self.hops]
        if self.target:
            data["target"] = self.target
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EagerLoad:
        return cls(
            model=str(data["model"]),
            path=str(data["path"]),
            kind=str(data["kind"]),
            callsite=CallSite.from_dict(data.get("callsite")),
            target=str(data.get("target", "")),
            hops=tuple((str(m), str(f)) for m, f in data.get("hops", [])),
        )


@dataclass(frozen=True, slots=True)
class RequestProfile:
    """Everything perftoolkit knows about one request, in execution order."""

    method: str
    route: str  # normalised route pattern (core.routes.normalize_route); the raw path if unresolved
    view: str = ""  # dotted path of the view
    status: int = 200
    started_at: float = 0.0  # UNIX time
    duration_ms: float = 0.0
    queries: tuple[QueryEvent, ...] = ()
    cache: CacheStats = field(default_factory=CacheStats)
    eager_loads: tuple[EagerLoad, ...] = ()
    # (app_label.Model, field) pairs read through a relation descriptor during the request.
    accessed: frozenset[tuple[str, str]] = frozenset()
    # Models with at least one row built during the request, among those eager loads start from.
    loaded: frozenset[str] = frozenset()
    # The Python line that defines the view's queryset (DRF get_queryset / queryset), if known.
    queryset_site: CallSite | None = None
    # app_label.Model of the view's rows, when the view class names it (`queryset =`, `model =`).
    queryset_model: str = ""
    # What `perf_fix` replays: the path (path_info), the query string and the user's pk, if the
    # request had loaded an authenticated user.
    path: str = ""
    query_string: str = ""
    user: int | str | None = None

    @property
    def endpoint(self) -> tuple[str, str]:
        return (self.method, self.route)

    @property
    def db_ms(self) -> float:
        return sum(q.ms for q in self.queries)

    def to_dict(self) -> dict[str, Any]:
        refs = Refs()
        data: dict[str, Any] = {
            "method": self.method,
            "route": self.route,
            "view": self.view,
            "status": self.status,
            "started_at": round6(self.started_at),
            "duration_ms": round3(self.duration_ms),
            **request_target(self.path, self.query_string, self.user),
            # Each statement's text once, keyed by fingerprint; the queries refer to it.
            "statements": {q.fingerprint: q.sql for q in self.queries},
            "queries": [q.to_row(refs) for q in self.queries],
            "cache": self.cache.to_dict(),
        }
        data.update(refs.tables())
        if self.eager_loads:
            data["eager_loads"] = [e.to_dict() for e in self.eager_loads]
        if self.accessed:
            data["accessed"] = sorted([m, f] for m, f in self.accessed)
        if self.loaded:
            data["loaded"] = sorted(self.loaded)
        if self.queryset_site:
            data["queryset_site"] = self.queryset_site.to_dict()
        if self.queryset_model:
            data["queryset_model"] = self.queryset_model
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestProfile:
        statements = data.get("statements", {})
        refs = Refs(data)
        return cls(
            method=str(data["method"]),
            route=str(data["route"]),
            view=str(data.get("view", "")),
            status=int(data.get("status", 200)),
            started_at=float(data.get("started_at", 0.0)),
            duration_ms=float(data.get("duration_ms", 0.0)),
            queries=tuple(
                QueryEvent.from_row(q, statements, refs)
                if isinstance(q, list)
                else QueryEvent.from_dict({"sql": statements.get(q["fingerprint"], ""), **q}, refs)
                for q in data.get("queries", [])
            ),
            cache=CacheStats.from_dict(data.get("cache")),
            eager_loads=tuple(EagerLoad.from_dict(e) for e in data.get("eager_loads", [])),
            accessed=frozenset((str(m), str(f)) for m, f in data.get("accessed", [])),
            loaded=frozenset(str(m) for m in data.get("loaded", [])),
            queryset_site=CallSite.from_dict(data.get("queryset_site")),
            queryset_model=str(data.get("queryset_model") or ""),
            path=str(data.get("path", "")),
            query_string=str(data.get("query", "")),
            user=data.get("user"),
        )


def request_target(path: str, query_string: str, user: int | str | None) -> dict[str, Any]:
    """The record line's `path`, `query` and `user` keys, each only when there is a value."""
    return add_request_target({}, path, query_string, user)


def add_request_target(
    line: dict[str, Any], path: str, query_string: str, user: int | str | None
) -> dict[str, Any]:
    """`request_target`'s keys set on `line` itself (the recorder builds a line after every
    recorded request: no dict of its own to merge)."""
    if path:
        line["path"] = path
    if query_string:
        line["query"] = query_string
    if user is not None:
        line["user"] = user
    return line


def _index(value: Any) -> int | None:
    """A query index as recorded (`rows_from`), or None for anything else."""
    return value if type(value) is int else None
