"""The scaffolded locustfile as text: plain Locust code whose every project string is a literal."""

from __future__ import annotations

import ast

from perftoolkit.core.runs.profiles import (
    ProfileLogin,
    ProfileTask,
    ScaffoldedProfile,
    SkippedRoute,
    render_locustfile,
    route_selected,
    task_names,
)

LOGIN = ProfileLogin(
    "a session cookie created for ann on this database",
    username="ann",
    cookies=(("sessionid", "abc"),),
)
TASKS = (
    ProfileTask("GET", "api/courses/", ("/api/courses/",), "list", "lms.CourseList"),
    ProfileTask(
        "GET",
        "api/courses/<int:pk>/",
        ("/api/courses/1/", "/api/courses/2/"),
        "detail",
        "lms.CourseDetail; pk from lms.Course rows",
    ),
    ProfileTask(
        "POST", "api/courses/", ("/api/courses/",), "write", "create", body='{"title": "x"}'
    ),
)


def profile(**changes: object) -> ScaffoldedProfile:
    values: dict[str, object] = {
        "name": "site",
        "source": "the URLconf of mysite.settings",
        "command": "python manage.py perf_profile scaffold --name site --force",
        "login": LOGIN,
        "tasks": TASKS,
        "skipped": (SkippedRoute("GET", "files/<path:p>", "nothing says what `p` takes"),),
    }
    values.update(changes)
    return ScaffoldedProfile(**values)  # type: ignore[arg-type]


def test_render_locustfile_is_locust_code_with_locust_imported_first() -> None:
    text = render_locustfile(profile())
    tree = ast.parse(text)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]

    assert isinstance(imports[0], ast.Import)
    assert imports[0].names[0].name == "locust"
    assert [n.name for n in tree.body if isinstance(n, ast.ClassDef)] == ["ScaffoldedUser"]
    user = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    methods = [n.name for n in user.body if isinstance(n, ast.FunctionDef)]
    assert methods == ["on_start", "get_api_courses", "get_api_courses_pk", "post_api_courses"]
    assert "        # GET api/courses/<int:pk>/: lms.CourseDetail; pk from lms.Course rows" in text
    assert "    @task(DETAIL_WEIGHT)" in text
    assert "COOKIES = {'sessionid': 'abc'}" in text
    assert "#   GET files/<path:p>: nothing says what `p` takes" in text
    assert text.endswith("FIRST_PASS = list(dict.fromkeys(ScaffoldedUser.tasks))\n")


def test_render_locustfile_keeps_project_strings_inert() -> None:
    hostile = "x'\"\"\"\nimport os; os.system('boom')"
    text = render_locustfile(
        profile(
            source=hostile,
            tasks=(ProfileTask("GET", hostile, (hostile,), "list", hostile),),
            skipped=(SkippedRoute("GET", hostile, hostile),),
        )
    )
    tree = ast.parse(text)

    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "system"
    ]
    assert calls == []
    assert [line for line in text.splitlines() if line.startswith("import os")] == []


def test_render_locustfile_without_tasks_still_runs() -> None:
    text = render_locustfile(profile(tasks=()))

    assert "    def nothing_to_request(self):" in text
    compile(text, "site.py", "exec")


def test_task_names_are_unique_identifiers() -> None:
    tasks = [
        ProfileTask("GET", "a-b/", ("/a-b/",), "list", ""),
        ProfileTask("GET", "a_b/", ("/a_b/",), "list", ""),
        ProfileTask("GET", "class/", ("/class/",), "list", ""),
    ]

    assert task_names(tasks) == ["get_a_b", "get_a_b_2", "get_class"]


def test_route_selected_includes_then_excludes() -> None:
    assert route_selected("api/x/", [], [])
    assert not route_selected("web/x/", ["^api/"], [])
    assert not route_selected("api/x/", ["^api/"], ["x/$"])
