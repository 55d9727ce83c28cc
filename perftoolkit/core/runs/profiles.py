"""A Locust profile scaffolded from a project's routes: the tasks as data, and the plain Locust
code they read as (`render_locustfile`).

Pure: the Django side (`perftoolkit.audit.scaffold`) walks the URLconf, finds real values for
path parameters and a way to log in, and hands the result here. Everything taken from the project
(routes, paths, values, credentials) is written as a Python literal (`repr`) or a comment with its
line breaks removed, so no route or value can change the code around it.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from perftoolkit.core.routes import is_endpoint_key

TaskKind = Literal["list", "detail", "write"]
WEIGHTS: dict[TaskKind, tuple[str, int]] = {
    "list": ("LIST_WEIGHT", 3),
    "detail": ("DETAIL_WEIGHT", 1),
    "write": ("WRITE_WEIGHT", 1),
}


@dataclass(frozen=True, slots=True)
class ProfileTask:
    """One task: a method on one route, over one or more concrete paths (one per request)."""

    method: str  # GET, POST, PATCH
    route: str  # the normalised route pattern: "api/courses/<int:pk>/"
    paths: tuple[str, ...]  # "/api/courses/3/" …; a request picks one at random
    kind: TaskKind
    comment: str  # one line: which view, where the values came from
    body: str | None = None  # JSON text sent with a write

    @property
    def name(self) -> str:
        """The request name Locust groups by: the route pattern with a leading slash, or a route
        keyer's key as it is (`wagtail:blog.BlogPage`: many pages behind one pattern).

        >>> ProfileTask("GET", "api/courses/", (), "list", "").name
        '/api/courses/'
        >>> ProfileTask("GET", "wagtail:blog.BlogPage", (), "detail", "").name
        'wagtail:blog.BlogPage'
        """
        if self.route == "/" or is_endpoint_key(self.route):
            return self.route
        return f"/{self.route}"


@dataclass(frozen=True, slots=True)
class SkippedRoute:
    """A route (and method) the profile leaves out, and why: listed in the file, never guessed."""

    method: str
    route: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProfileLogin:
    """How the profile's users authenticate: what they send with every request."""

    description: str  # one sentence: "a session cookie created for admin on this database"
    username: str | None = None
    cookies: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def credential(self) -> bool:
        return bool(self.cookies or self.headers)


@dataclass(frozen=True, slots=True)
class ScaffoldedProfile:
    name: str
    source: str  # "the URLconf of mysite.settings"
    command: str  # how to generate it again
    login: ProfileLogin
    tasks: tuple[ProfileTask, ...]
    skipped: tuple[SkippedRoute, ...] = ()

    @property
    def routes(self) -> frozenset[tuple[str, str]]:
        return frozenset((t.method, t.route) for t in self.tasks)


def route_selected(route: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether `route` stays: it matches an --include pattern (any, when none is given) and no
    --exclude pattern. Patterns are regular expressions searched in the route.

    >>> route_selected("api/courses/<int:pk>/", ["^api/"], ["reviews"])
    True
    >>> route_selected("admin/", [], ["^admin/"])
    False
    """
    if include and not any(re.search(p, route) for p in include):
        return False
    return not any(re.search(p, route) for p in exclude)


def task_names(tasks: Iterable[ProfileTask]) -> list[str]:
    """A Python method name per task, from its method and route, unique among them.

    >>> task_names([ProfileTask("GET", "api/courses/<int:pk>/", ("/x/",), "detail", ""),
    ...             ProfileTask("GET", "/", ("/",), "list", "")])
    ['get_api_courses_pk', 'get_root']
    """
    names: list[str] = []
    taken: set[str] = set()
    for t in tasks:
        words = re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"\1", t.route)
        stem = "_".join(w for w in re.split(r"[^0-9A-Za-z]+", words.lower()) if w) or "root"
        base = f"{t.method.lower()}_{stem}"
        if keyword.iskeyword(base) or base in ("on_start", "on_stop", "wait_time"):
            base += "_"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        names.append(name)
    return names


def render_locustfile(profile: ScaffoldedProfile) -> str:
    """The profile as a locustfile: `import locust` first, one `@task` per route, a first pass
    over every route, the routes left out listed at the end."""
    out: list[str] = [
        f'"""Locust profile {_doc(profile.name)}, scaffolded by perftoolkit from {_doc(profile.source)}.',
        "",
        "Plain Locust code: edit it freely (weights, think time, the paths each task picks from).",
        "Each request is named by its route pattern, so Locust's numbers group per endpoint the way",
        "perftoolkit's reports do. Generate it again with:",
        "",
        f"    {_doc(profile.command)}",
        '"""',
        "",
        "import locust  # noqa: F401  (first: Locust patches the interpreter with gevent on import)",
        "from locust import HttpUser, between, task",
        "",
        "import random",
        "",
        "# How often each kind of task runs, relative to the others.",
        *(f"{name} = {value}" for name, value in WEIGHTS.values()),
        "",
        f"# Logged in as: {_comment(profile.login.description)}.",
    ]
    if profile.login.credential:
        out.append(
            "# These are credentials for that user: generate the file again rather than commit it."
        )
    out += [
        f"COOKIES = {_literal(dict(profile.login.cookies))}",
        f"HEADERS = {_literal(dict(profile.login.headers))}",
        "",
        "",
        "class ScaffoldedUser(HttpUser):",
        "    # People read a page before they click on: one to four seconds between requests.",
        "    wait_time = between(1, 4)",
        "",
        "    def on_start(self):",
        "        self.client.cookies.update(COOKIES)",
        "        self.client.headers.update(HEADERS)",
        "        # Every route once before the weighted mix, so even a short run reaches them all;",
        "        # the list is shared by the users (greenlets of one process), so each is requested once.",
        "        while FIRST_PASS:",
        "            FIRST_PASS.pop(0)(self)",
    ]
    for name, t in zip(task_names(profile.tasks), profile.tasks, strict=True):
        out += ["", f"    @task({WEIGHTS[t.kind][0]})", f"    def {name}(self):"]
        out.append(f"        # {_comment(f'{t.method} {t.route}: {t.comment}')}")
        out += [f"        {line}" for line in _request(t)]
    if not profile.tasks:
        out += [
            "",
            "    @task",
            "    def nothing_to_request(self):",
            "        # No route could be scaffolded (see the list below): write your own tasks.",
            "        self.stop()",
        ]
    out += ["", ""]
    if profile.skipped:
        out.append("# Not scaffolded (a value it could not find is never guessed):")
        out += [f"#   {_comment(f'{s.method} {s.route}: {s.reason}')}" for s in profile.skipped]
        out.append("")
    out.append("FIRST_PASS = list(dict.fromkeys(ScaffoldedUser.tasks))")
    return "\n".join(out) + "\n"


def _request(t: ProfileTask) -> list[str]:
    path = repr(t.paths[0]) if len(t.paths) == 1 else f"random.choice({_literal(t.paths)})"
    method = t.method.lower()
    if t.body is None:
        return [f"self.client.{method}({path}, name={t.name!r})"]
    return [
        f"path = {path}",
        f"body = {_literal(json.loads(t.body))}",
        "# A refusal (400: a unique value taken; 403) is the API's answer, not a failure.",
        f"with self.client.{method}(path, json=body, name={t.name!r}, catch_response=True) as response:",
        "    if response.status_code < 500:",
        "        response.success()",
    ]


def _literal(value: object) -> str:
    """A Python literal; tuples of paths one per line when they do not fit on one."""
    text = repr(value)
    if isinstance(value, tuple) and len(text) > 70:
        inner = "".join(f"\n            {item!r}," for item in value)
        return f"({inner}\n        )"
    return text


def _comment(text: str) -> str:
    return " ".join(text.split())


def _doc(text: str) -> str:
    return _comment(text).replace("\\", "/").replace('"""', "'''")
