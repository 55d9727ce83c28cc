"""A duplicate query's fix: the function that runs it keeps its result on its one argument."""

from __future__ import annotations

import textwrap

import pytest

from perftoolkit.fix.locate import Unplaceable
from perftoolkit.fix.remember import AlreadyRemembered, remember_result

ROLES = textwrap.dedent('''\
    from django.contrib.auth.models import Group


    def get_user_roles(user) -> frozenset[str]:
        """The names of the user's groups."""
        return frozenset(Group.objects.filter(user=user.pk).values_list("name", flat=True))
    ''')


def test_the_result_is_kept_on_the_argument_and_read_back() -> None:
    text, parameter = remember_result(ROLES, 6, "get_user_roles")
    assert parameter == "user"
    assert text == textwrap.dedent('''\
        from django.contrib.auth.models import Group


        def get_user_roles(user) -> frozenset[str]:
            """The names of the user's groups."""
            remembered = getattr(user, "__dict__", {})  # kept on user: its queries run once for it
            if "_get_user_roles_result" in remembered:
                return remembered["_get_user_roles_result"]
            return remembered.setdefault("_get_user_roles_result", frozenset(Group.objects.filter(user=user.pk).values_list("name", flat=True)))
        ''')


def test_the_rewritten_function_runs_its_body_once_per_object() -> None:
    text, _ = remember_result(
        ROLES.replace("from django.contrib.auth.models import Group\n", ""), 4, "get_user_roles"
    )
    calls: list[int] = []

    class Rows:
        def filter(self, user: int) -> Rows:
            calls.append(user)
            return self

        def values_list(self, *_: object, **__: object) -> list[str]:
            return ["staff"]

    class Group:
        objects = Rows()

    class User:
        def __init__(self, pk: int) -> None:
            self.pk = pk

    namespace: dict[str, object] = {"Group": Group}
    exec(compile(text, "roles.py", "exec"), namespace)
    roles = namespace["get_user_roles"]
    alice, bob = User(1), User(2)
    assert [roles(alice), roles(alice), roles(bob)] == [frozenset({"staff"})] * 3  # type: ignore[operator]
    assert calls == [1, 2]
    # an object without a __dict__ keeps nothing and is asked every time, as before
    slotted = type("Slotted", (), {"__slots__": ("pk",)})()
    slotted.pk = 3
    roles(slotted)  # type: ignore[operator]
    roles(slotted)  # type: ignore[operator]
    assert calls == [1, 2, 3, 3]


def test_every_return_keeps_its_value_and_a_docstring_stays_first() -> None:
    source = textwrap.dedent("""\
        class Course:
            @property
            def lead(self):
                "The first instructor."
                rows = list(self.instructors.all()[:1])
                if not rows:
                    return None
                return rows[0]
        """)
    text, parameter = remember_result(source, 5, "lead")
    assert parameter == "self"
    assert text.splitlines()[3:10] == [
        '        "The first instructor."',
        '        remembered = getattr(self, "__dict__", {})  # kept on self: its queries run once for it',
        '        if "_lead_result" in remembered:',
        '            return remembered["_lead_result"]',
        "        rows = list(self.instructors.all()[:1])",
        "        if not rows:",
        '            return remembered.setdefault("_lead_result", None)',
    ]
    assert text.splitlines()[10] == '        return remembered.setdefault("_lead_result", rows[0])'
    with pytest.raises(AlreadyRemembered):
        remember_result(text, 9, "lead")


def test_a_name_the_function_uses_is_not_taken_for_the_memo() -> None:
    source = textwrap.dedent("""\
        def plan(user):
            remembered = Plan.objects.filter(owner=user).first()
            return remembered
        """)
    text, _ = remember_result(source, 2, "plan")
    assert '_remembered = getattr(user, "__dict__", {})' in text
    assert 'return _remembered.setdefault("_plan_result", remembered)' in text


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("def f(a, b):\n    return Q.objects.get(a=a, b=b)\n", "more than one argument"),
        ("def f():\n    return Q.objects.count()\n", "takes no argument"),
        ("def f(a=None):\n    return Q.objects.get(a=a)\n", "has a default"),
        ("def f(a, *rest):\n    return Q.objects.get(a=a)\n", "more than one argument"),
        ("async def f(a):\n    return Q.objects.get(a=a)\n", "is async"),
        ("@lru_cache\ndef f(a):\n    return Q.objects.get(a=a)\n", "is decorated"),
        ("def f(a):\n    for row in Q.objects.filter(a=a):\n        yield row\n", "is a generator"),
        (
            "def f(a):\n    row = Q.objects.get(a=a)\n    row.save()\n    return row\n",
            "calls .save()",
        ),
        (
            "def f(a):\n    Q.objects.filter(a=a).update(seen=True)\n    return 1\n",
            "calls .update()",
        ),
        (
            "def f(a):\n    a.seen = Q.objects.count()\n    return a.seen\n",
            "assigns to an attribute",
        ),
        ("def f(a):\n    a = Q.objects.get(pk=a)\n    return a\n", "rebinds its argument a"),
        ("def f(a):\n    global HITS\n    return Q.objects.get(a=a)\n", "changes a global name"),
        ("def f(a):\n    Q.objects.get(a=a)\n", "returns nothing"),
        (
            "def f(a):\n    if a:\n        return\n    return Q.objects.get(a=a)\n",
            "a return without a value",
        ),
        ("def g(a):\n    return Q.objects.get(a=a)\n", "no function f() holds line 2"),
    ],
)
def test_a_function_keeping_its_result_could_change_is_left_with_the_reason(
    source: str, reason: str
) -> None:
    with pytest.raises(
        Unplaceable, match=reason.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        remember_result(source, 2, "f")


def test_a_list_or_dict_of_its_own_may_be_filled() -> None:
    source = textwrap.dedent("""\
        def titles(user):
            out = []
            seen = {}
            for row in Book.objects.filter(owner=user):
                out.append(row.title)
                seen[row.pk] = row
            return out
        """)
    text, _ = remember_result(source, 4, "titles")
    assert 'return remembered.setdefault("_titles_result", out)' in text
