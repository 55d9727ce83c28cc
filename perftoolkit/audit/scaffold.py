"""`perf_profile scaffold`: a Locust profile written from the project itself.

A task per route the URLconf serves (DRF routers and viewsets included; GET unless `--writes`),
its path parameters filled from real rows (`endpoints.py`), logged in as `--user` the way the
project authenticates (`logins.py`), rendered as plain Locust code (`core.runs.profiles`). The
audit uses the same function when it is given no profile and finds no `loadtests/`.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import shlex
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.utils import translation

from perftoolkit.audit.endpoints import (
    ViewInfo,
    describe_view,
    owned_rows,
    view_instance,
    view_queryset,
)
from perftoolkit.audit.locust import PROFILE_DIR
from perftoolkit.audit.logins import (
    can_log_in,
    default_user,
    find_user,
    login_for,
    project_settings,
)
from perftoolkit.audit.options import ScaffoldOptions
from perftoolkit.audit.parameters import ROWS, fill_parameters
from perftoolkit.audit.probing import ProbeProgress, probe_tasks
from perftoolkit.core.routes import route_parameters
from perftoolkit.core.runs.profiles import (
    ProfileTask,
    ScaffoldedProfile,
    SkippedRoute,
    TaskKind,
    render_locustfile,
    route_selected,
)
from perftoolkit.exceptions import ConfigurationError
from perftoolkit.urlconf import UrlEntry, keyer_examples, url_entries, view_path

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
AUDIT_PROFILE = "scaffold"  # the name (and file) of the profile an audit scaffolds for itself
# Pages the scaffold asks at most before it keeps fewer rows a route (`_within_probe_budget`).
PROBE_PAGES = 1000
# Views a load test should not request unless asked by --include: the admin site (hundreds of
# pages that are not the product), ending the session, debugging and file-serving views.
_LEFT_OUT = (
    ("django.contrib.admin.", "the Django admin"),
    ("debug_toolbar.", "django-debug-toolbar"),
    ("django.views.static.", "file serving"),
)
# Views that end or switch the session every user of the profile shares (logging out, logging in
# as another user): one request of theirs would log the whole run out.
_SESSION_ENDERS = re.compile(
    r"log-?out|sign-?out|impersonat|hijack|switch-?user|login-?as|become-?user", re.IGNORECASE
)
_LOGIN = re.compile(r"log-?in|sign-?in", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Words of a route or a view's name that say a GET changes data (a function view that deletes on
# GET, a toggle, a copy): left out unless --include names the route, so a load test of the pages
# does not delete the rows it reads.
_CHANGES_DATA = frozenset(
    {
        "delete",
        "remove",
        "destroy",
        "drop",
        "deactivate",
        "activate",
        "revert",
        "toggle",
        "copy",
        "clone",
        "purge",
        "reset",
        "unsubscribe",
        "restore",
        "publish",
        "unpublish",
        "approve",
        "mark",
    }
)

logger = logging.getLogger("perftoolkit")


@dataclass(frozen=True, slots=True)
class ScaffoldResult:
    path: Path
    profile: ScaffoldedProfile
    get_routes: int  # GET routes after --include/--exclude
    left_out: dict[str, int]  # what was left out by default, and how many routes
    rows: int = ROWS  # rows each parameterised route was given at most (`_within_probe_budget`)

    def summary(self, shown: str | None = None) -> str:
        gets = sum(1 for t in self.profile.tasks if t.method == "GET")
        parts = [
            f"{shown or self.path}: {gets} of {self.get_routes} GET routes",
            f"logged in as {self.profile.login.username}"
            if self.profile.login.username
            else "anonymous",
        ]
        writes = len(self.profile.tasks) - gets
        if writes:
            parts.append(f"{writes} writes")
        skipped = sum(1 for s in self.profile.skipped if s.method == "GET")
        if skipped:
            routes = "route is" if skipped == 1 else "routes are"
            parts.append(
                f"{skipped} GET {routes} listed as not scaffolded (at the end of the file)"
            )
        if self.left_out:
            parts.append(
                "left out: " + ", ".join(f"{what} ({n})" for what, n in self.left_out.items())
            )
        if self.rows < ROWS:
            parts.append(
                f"{self.rows} rows a route, not {ROWS}: so many routes would have made the "
                f"scaffold ask more than {PROBE_PAGES} pages"
            )
        return "; ".join(parts) + "."


def scaffold(options: ScaffoldOptions, progress: ProbeProgress | None = None) -> ScaffoldResult:
    """Write the profile (to `--output`, or loadtests/<name>.py) and return what it holds;
    `progress` is told as the paths are asked (`probe_tasks`)."""
    target = options.output or Path(PROFILE_DIR) / f"{options.name}.py"
    target = target if target.is_absolute() else options.cwd / target
    if target.exists() and not options.force:
        raise ConfigurationError(
            f"{target} exists. Pass --force to replace it, or choose another --name."
        )
    prepared = prepare(options, find_user(options.user) if options.user else None, progress)
    return prepared.write(target)


@dataclass(frozen=True, slots=True)
class PreparedProfile:
    """A scaffolded profile, its text ready to be written."""

    profile: ScaffoldedProfile
    text: str
    get_routes: int
    left_out: dict[str, int]
    rows: int = ROWS

    def write(self, path: Path) -> ScaffoldResult:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text, encoding="utf-8")
        return ScaffoldResult(path, self.profile, self.get_routes, self.left_out, self.rows)

    def write_for_audit(self, path: Path, shown_dir: str) -> str:
        """Write it where the audit runs it; what to tell the user about it."""
        result = self.write(path)
        return (
            "No --profile and no loadtests/ directory: scaffolded a profile from the URLconf, "
            f"{result.summary(f'{shown_dir}/{path.name}')} Copy it to loadtests/ to edit it."
        )


def prepare(
    options: ScaffoldOptions, user: Any, progress: ProbeProgress | None = None
) -> PreparedProfile:
    """The profile for `options`, logged in as `user` (None: anonymous), not yet written."""
    if not _NAME.fullmatch(options.name):
        raise ConfigurationError(
            f"--name {options.name!r} cannot name a profile: use letters, digits and '_', "
            "starting with a letter (it becomes loadtests/<name>.py)."
        )
    for flag, patterns in (("--include", options.include), ("--exclude", options.exclude)):
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(
                    f"{flag} {pattern!r} is not a regular expression ({exc})."
                ) from None
    with _unscoped():
        built = build(options, user, progress)
    text = render_locustfile(built.profile)
    compile(text, f"{options.name}.py", "exec")  # what is written must at least parse
    return PreparedProfile(built.profile, text, built.get_routes, built.left_out, built.rows)


def _unscoped() -> AbstractContextManager[Any]:
    """django-scopes (pretalx, pretix) refuses a query of a scoped model outside a scope: the
    scaffold reads rows of every event, outside any request. A request it makes enters its own
    scope again, in the project's middleware."""
    try:
        scopes = importlib.import_module("django_scopes")
    except ImportError:  # an optional package, not installed: no scopes to disable
        return nullcontext()
    return cast("AbstractContextManager[Any]", scopes.scopes_disabled())


def prepare_for_audit(
    username: str | None, cwd: Path, progress: ProbeProgress | None = None
) -> PreparedProfile:
    """The profile an audit runs when it is given none and finds no loadtests/: every GET route,
    logged in as `username` or the first active superuser."""
    user = find_user(username) if username else default_user() if can_log_in() else None
    prepared = prepare(ScaffoldOptions(name=AUDIT_PROFILE, cwd=cwd), user, progress)
    if not prepared.profile.tasks:
        reasons = "; ".join(f"{s.route}: {s.reason}" for s in prepared.profile.skipped[:3])
        raise ConfigurationError(
            "No --profile was given and there is no loadtests/ directory, so the audit tried to "
            f"scaffold a profile from the URLconf of {project_settings()}, but no GET route "
            f"could be filled ({reasons or 'no route'}). Write a Locust profile and pass it with "
            "--profile."
        )
    return prepared


@dataclass(frozen=True, slots=True)
class _Built:
    profile: ScaffoldedProfile
    get_routes: int
    left_out: dict[str, int]
    rows: int


def build(options: ScaffoldOptions, user: Any, progress: ProbeProgress | None = None) -> _Built:
    # Routes under i18n_patterns start with the language a request without Accept-Language gets
    # (`en/` for LANGUAGE_CODE "en-us" when LANGUAGES has "en"), not this process's.
    with translation.override(_request_language()):
        return _build(options, user, progress)


def _request_language() -> str:
    code = str(settings.LANGUAGE_CODE)
    try:
        return str(translation.get_supported_language_variant(code))
    except LookupError:
        return code


def _build(options: ScaffoldOptions, user: Any, progress: ProbeProgress | None) -> _Built:
    tasks: list[ProfileTask] = []
    skipped: list[SkippedRoute] = []
    left_out: dict[str, int] = {}
    get_routes = 0
    owned = owned_rows(user)
    seen: set[tuple[str, str]] = set()
    for entry in url_entries():
        keyed = _keyed_tasks(entry, options)
        if keyed is not None:  # one pattern, many endpoints (Wagtail's pages): one task per key
            tasks.extend(t for t in keyed if (t.method, t.route) not in seen)
            seen.update((t.method, t.route) for t in keyed)
            get_routes += len(keyed)
            continue
        if not route_selected(entry.key, options.include, options.exclude):
            continue
        try:
            info = describe_view(entry)
        except Exception as exc:  # a view that cannot be inspected is one route left out
            skipped.append(SkippedRoute("GET", entry.key, _uninspectable(exc)))
            continue
        reason = _left_out(entry, info, include=options.include)
        if reason is not None:
            left_out[reason] = left_out.get(reason, 0) + 1
            continue
        for method in _methods(info, options.writes):
            if (method, entry.key) in seen:  # two patterns, one route (a format suffix)
                continue
            seen.add((method, entry.key))
            get_routes += method == "GET"
            try:
                made = _task(entry, info, method, user, owned)
            except Exception as exc:
                made = _uninspectable(exc)
            if isinstance(made, ProfileTask):
                tasks.append(made)
            else:
                skipped.append(SkippedRoute(method, entry.key, made))
        if not options.writes and "GET" not in info.methods and info.methods:
            skipped.append(
                SkippedRoute(
                    "/".join(info.methods),
                    entry.key,
                    "does not answer GET (--writes adds DRF writes)",
                )
            )
    tasks, rows = _within_probe_budget(tasks)
    login = login_for(user, writes=options.writes)
    tasks, unanswered = probe_tasks(tasks, login, writes=options.writes, progress=progress)
    skipped.extend(unanswered)
    profile = ScaffoldedProfile(
        name=options.name,
        source=f"the URLconf of {project_settings()}",
        command=_command(options),
        login=login,
        tasks=tuple(tasks),
        skipped=tuple(skipped),
    )
    return _Built(profile, get_routes, left_out, rows)


def _within_probe_budget(tasks: list[ProfileTask]) -> tuple[list[ProfileTask], int]:
    """The tasks with fewer rows each when asking all their GET paths would take more than
    PROBE_PAGES requests (at least two rows a route), and the rows a route keeps at most. Each
    path is asked once before it goes in, a real request: ten rows for each of a thousand routes
    kept the scaffold asking pages for minutes, and a load test spread over that many routes asks
    each only a few times anyway."""
    gets = [t for t in tasks if t.method == "GET"]
    if sum(len(t.paths) for t in gets) <= PROBE_PAGES:
        return tasks, ROWS
    several = [t for t in gets if len(t.paths) > 1]
    rows = max(2, (PROBE_PAGES - (len(gets) - len(several))) // max(1, len(several)))
    return [
        replace(t, paths=t.paths[:rows]) if t.method == "GET" and len(t.paths) > rows else t
        for t in tasks
    ], rows


def _uninspectable(exc: Exception) -> str:
    """Why a route has no task when looking at its view raised (a property of the view that
    needs URL arguments, a queryset that needs a request attribute): said, never fatal."""
    logger.debug("perftoolkit: scaffold could not inspect a view", exc_info=True)
    return f"its view could not be inspected outside a request ({type(exc).__name__}: {exc})"


def _keyed_tasks(entry: UrlEntry, options: ScaffoldOptions) -> list[ProfileTask] | None:
    """For a pattern a route keyer splits into endpoints (a Wagtail site's catch-all), a GET
    task per key it knows, over real paths keyed so; None for any other pattern."""
    view = view_path(entry.callback)
    examples = keyer_examples(view)
    if examples is None:
        return None
    return [
        ProfileTask(
            "GET",
            key,
            paths,
            "detail",
            f"{len(paths)} live page{'s' if len(paths) != 1 else ''} served by {view}, keyed "
            "by page class",
        )
        for key, paths in examples.items()
        if route_selected(key, options.include, options.exclude)
    ]


def _left_out(entry: UrlEntry, info: ViewInfo, *, include: tuple[str, ...]) -> str | None:
    """Why a route is left out by default, or None. --include chooses among the routes: it brings
    back the admin and the other tools' pages it matches, but a page that logs out or whose name
    says a GET changes data only when an --include pattern itself says so (`--include logout`),
    not because it selects a whole part of the site (`--include '^api/'`)."""
    if any(name == "format" for _, name in route_parameters(entry.key)):
        return "format-suffix copies of routes"
    if not include:
        if "admin" in entry.app_names or hasattr(entry.callback, "model_admin"):
            return "the Django admin"
        if "djdt" in entry.app_names:
            return "django-debug-toolbar"
        for prefix, what in _LEFT_OUT:
            if info.label.startswith(prefix):
                return what
    ends = _SESSION_ENDERS.search(entry.key) or _SESSION_ENDERS.search(info.label)
    if ends and not any(_SESSION_ENDERS.search(p) for p in include):
        return "logging out or switching user"
    # a login for someone (`users/<pk>/login`)
    login_as = _LOGIN.search(entry.key) and route_parameters(entry.key)
    if login_as and not any(_LOGIN.search(p) for p in include):
        return "logging out or switching user"
    literal = re.sub(r"<[^>]+>", "", entry.key)
    name = _CAMEL.sub(" ", info.label.rsplit(".", 1)[-1])  # DeleteView: delete, view
    words = set(re.split(r"[^a-z]+", f"{literal} {name}".lower())) & _CHANGES_DATA
    if words and not info.drf and not any(w in p.lower() for p in include for w in words):
        return "pages whose name says a GET changes data (delete, copy, toggle, …)"
    if include:
        return None  # --include chose these routes
    from perftoolkit.conf import get_settings

    path = "/" if entry.key == "/" else f"/{entry.key}"
    if any(re.search(p, path) for p in get_settings().ignore_paths):
        return "IGNORE_PATHS"
    return None


def _methods(info: ViewInfo, writes: bool) -> list[str]:
    methods = ["GET"] if "GET" in info.methods else []
    if writes:
        methods += [m for m in ("POST", "PATCH", "PUT", "DELETE") if m in info.methods]
    return methods


def _task(entry: UrlEntry, info: ViewInfo, method: str, user: Any, owned: Any) -> ProfileTask | str:
    if method == "DELETE":
        return "a load test would delete your rows: write this task yourself if you want it"
    if method == "PUT":
        return "PATCH covers updates; write a PUT task yourself if you want one"
    if method != "GET" and not info.drf:
        return "writes are scaffolded for DRF views only (a form's fields are not known)"
    filled = fill_parameters(entry, info, user, owned)
    if isinstance(filled, str):
        return filled
    detail = info.detail if info.detail is not None else bool(route_parameters(entry.key))
    kind: TaskKind = "write" if method != "GET" else "detail" if detail else "list"
    comment = info.describe(method) + (f"; {filled.source}" if filled.source else "")
    if method == "GET":
        return ProfileTask(method, entry.key, filled.paths, kind, comment)
    if not _writes_rows(info, method):
        return (
            "not a DRF create or update (a custom action: its body and its effect are yours to "
            "know, so write this task yourself)"
        )
    body = _body(info, method, user, filled.rows, entry)
    if body is None:
        return "no row to copy a request body from"
    paths = filled.paths[:1] if method == "PATCH" else filled.paths
    comment += "; the body copies an existing row's writable fields"
    return ProfileTask(method, entry.key, paths, kind, comment, body=body)


def _writes_rows(info: ViewInfo, method: str) -> bool:
    """A DRF create (POST) or partial update (PATCH), the writes a body can be copied for."""
    wanted = {
        "POST": ("create", "CreateModelMixin"),
        "PATCH": ("partial_update", "UpdateModelMixin"),
    }
    action, mixin = wanted.get(method, ("", ""))
    if info.actions:
        return info.action(method) == action
    cls = info.view_class
    return cls is not None and any(k.__name__ == mixin for k in cls.__mro__)


def _body(
    info: ViewInfo, method: str, user: Any, rows: tuple[Any, ...], entry: UrlEntry
) -> str | None:
    """The writable fields of a row, as the view's serializer writes them (JSON)."""
    view = view_instance(info, user, method)
    if view is None:
        return None
    row = rows[0] if rows else None
    if row is None:
        listing = view_instance(info, user)
        found = view_queryset(listing) if listing is not None else None
        row = found.first() if found is not None else None
    if row is None:
        return None
    try:
        from rest_framework.utils.encoders import JSONEncoder

        serializer = view.get_serializer(instance=row)
        data = serializer.data
        writable = {
            name: data[name]
            for name, f in serializer.fields.items()
            if not f.read_only and name in data
        }
        return json.dumps(writable, cls=JSONEncoder, sort_keys=True)
    except Exception:  # the project's serializer: any failure means no body, not a crash
        return None


def _command(options: ScaffoldOptions) -> str:
    argv = ["python", "manage.py", "perf_profile", "scaffold", "--name", options.name]
    if options.user:
        argv += ["--user", options.user]
    if options.writes:
        argv.append("--writes")
    for pattern in options.include:
        argv += ["--include", pattern]
    for pattern in options.exclude:
        argv += ["--exclude", pattern]
    argv.append("--force")
    return shlex.join(argv)
