"""Fix code from relation chains and the user's own statement."""

from __future__ import annotations

from dataclasses import replace

import pytest

from perftoolkit.core.diagnosis.fixes import Chain, Step, fix_for, nest_fix
from perftoolkit.core.events import Relation
from perftoolkit.core.findings import Fix


def chain(
    via: str,
    source: str | None = None,
    function: str = "",
    *,
    kind: str = "reverse_many",
    prefetched: bool = False,
) -> Chain:
    last = Relation("shop.Order", "items", kind, "shop.Item", via, prefetched, "order")
    return Chain(
        root="shop.Order",
        steps=(Step("shop.Order", "items", True),),
        last=last,
        source=source,
        function=function,
    )


@pytest.mark.parametrize(
    ("via", "source", "function", "code"),
    [
        ("all", "for item in order.items.all():", "", '.prefetch_related("items")'),
        ("count", "n = order.items.count()", "", '.annotate(items_count=Count("items"))'),
        (
            "count",
            '"paid": order.items.filter(state="paid").count(),  # a dict entry of its own',
            "",
            '.annotate(items_count=Count("items", filter=Q(items__state="paid")))',
        ),
        (
            "count",
            "paid=order.items.filter(paid=True).count(),",
            "",
            '.annotate(items_count=Count("items", filter=Q(items__paid=True)))',
        ),
        (
            "count",
            'n = order.items.filter(state="paid", qty__gt=1).count()',
            "",
            '.annotate(items_count=Count("items", filter=Q(items__state="paid", items__qty__gt=1)))',
        ),
        (
            "count",
            "return obj.items.count()",
            "get_item_total",
            '.annotate(item_total=Count("items"))',
        ),
        (
            "exists",
            "if order.items.exists():",
            "",
            '.annotate(has_items=Exists(Item.objects.filter(order=OuterRef("pk"))))',
        ),
        (
            "aggregate",
            'total = order.items.aggregate(total=Sum("price"))["total"]',
            "",
            '.annotate(total=Sum("items__price"))',
        ),
        (
            "aggregate",
            'order.items.filter(state="paid").aggregate(Sum("price"))',
            "",
            '.annotate(price__sum=Sum("items__price", filter=Q(items__state="paid")))',
        ),
        (
            "aggregate",
            'return self.items.aggregate(models.Sum("price"))["price__sum"] or 0',
            "",
            '.annotate(price__sum=Sum("items__price"))',
        ),
        (
            "filter",
            'for item in order.items.filter(state="paid").order_by("-id"):',
            "",
            '.prefetch_related(Prefetch("items", queryset=Item.objects.filter(state="paid").order_by("-id"), to_attr="filtered_items"))',
        ),
        (
            "get_one",
            'latest = order.items.order_by("-created").first()',
            "",
            '.prefetch_related(Prefetch("items", queryset=Item.objects.order_by("-created")[:1], to_attr="prefetched_items"))',
        ),
        (
            "get_one",
            'item = order.items.get(sku="x")',
            "",
            '.prefetch_related(Prefetch("items", queryset=Item.objects.filter(sku="x"), to_attr="filtered_items"))',
        ),
        ("count", None, "", '.annotate(items_count=Count("items"))'),
    ],
)
def test_fix_for_per_row_use(via: str, source: str | None, function: str, code: str) -> None:
    assert fix_for(chain(via, source, function)).code == code


@pytest.mark.parametrize(
    ("source", "ordering", "queryset"),
    [
        # latest() orders by Meta.get_latest_by, reversed: the statement's order, not the line's
        ('"latest": order.items.latest()', ("-created",), 'Item.objects.order_by("-created")[:1]'),
        (
            'newest = order.items.order_by("created").last()',
            ("-created",),
            'Item.objects.order_by("-created")[:1]',
        ),
        ("first = order.items.earliest()", ("created",), 'Item.objects.order_by("created")[:1]'),
    ],
)
def test_fix_for_one_row_per_row_prefetches_that_row_in_the_statements_order(
    source: str, ordering: tuple[str, ...], queryset: str
) -> None:
    """A row's one related row read per row (`latest()`, `last()`…) is prefetched alone, sliced
    (not every row of the set), in the order its statement ran: `last()` and `latest()` reverse
    what the line shows."""
    last = Relation(
        "shop.Order", "items", "reverse_many", "shop.Item", "get_one", False, "order",
        ordering=ordering,
    )  # fmt: skip
    steps = (Step("shop.Order", "items", True),)
    fix = fix_for(Chain(root="shop.Order", steps=steps, last=last, source=source))
    assert fix is not None
    assert fix.code == (
        f'.prefetch_related(Prefetch("items", queryset={queryset}, to_attr="prefetched_items"))'
    )
    assert fix.note.endswith(
        "then read row.prefetched_items[0] (the list is empty where the row has none) instead of "
        "querying per row."
    )


def test_fix_for_one_row_of_a_generic_relation_per_row_is_not_sliced() -> None:
    """Django cannot slice a generic relation's prefetch (its manager filters the sliced queryset,
    which raises): the rows are prefetched in the statement's order, and the note says what that
    loads."""
    last = Relation(
        "shop.Metric", "data", "generic_many", "shop.Datum", "get_one", False, "",
        ordering=("-timestamp",),
    )  # fmt: skip
    steps = (Step("shop.Metric", "data", True, generic=True),)
    source = '"latest": metric.data.latest()'
    fix = fix_for(Chain(root="shop.Metric", steps=steps, last=last, source=source))
    assert fix is not None
    assert fix.code == (
        '.prefetch_related(Prefetch("data", queryset=Datum.objects.order_by("-timestamp"), '
        'to_attr="prefetched_data"))'
    )
    assert fix.note.endswith(
        "then read row.prefetched_data[0] (the list is empty where the row has none) instead of "
        "querying per row. A generic relation's prefetch cannot be sliced: it loads every row of "
        "each set; where sets are large, annotate the rows with a Subquery of the one row instead."
    )


def test_fix_for_forward_chain_is_one_select_related() -> None:
    last = Relation("shop.Customer", "address", "forward", "shop.Address", "get")
    steps = (Step("shop.Order", "customer", False), Step("shop.Customer", "address", False))
    fix = fix_for(Chain(root="shop.Order", steps=steps, last=last))
    assert (fix.action, fix.code) == ("select_related", '.select_related("customer__address")')


def test_fix_for_generic_foreign_key_prefetches() -> None:
    last = Relation("shop.Note", "target", "generic", "shop.Order", "get")
    fix = fix_for(
        Chain(
            root="shop.Note", steps=(Step("shop.Note", "target", False, generic=True),), last=last
        )
    )
    assert fix.code == '.prefetch_related("target")'


def test_fix_for_prefetch_bypassed_note() -> None:
    fix = fix_for(chain("filter", 'order.items.filter(state="paid")', prefetched=True))
    assert fix.note.startswith(
        'prefetch_related("items") is already there, but .filter() on the prefetched manager'
    )


@pytest.mark.parametrize(
    ("steps", "via"),
    [
        ((Step("shop.Order", "Order_tags+", True), Step("shop.Order_tags", "tag", False)), "all"),
        ((Step("shop.Order", "+", True),), "all"),
        ((Step("shop.Order", "Order_tags+", True), Step("shop.Order_tags", "tag", False)), "count"),
        ((Step("shop.Order", "items", True, lookup="Order_items+"),), "count"),
    ],
)
def test_fix_for_hidden_accessor_is_no_fix(steps: tuple[Step, ...], via: str) -> None:
    """A related_name ending in "+" is no lookup: no fix rather than one that raises."""
    last = Relation("shop.Order", steps[-1].field, "reverse_many", "shop.Item", via)
    assert fix_for(Chain(root="shop.Order", steps=steps, last=last)) is None


def test_nest_fix_under_a_hidden_accessor_is_no_fix() -> None:
    fix = fix_for(chain("all", "for item in order.items.all():"))
    assert fix is not None
    hidden = Relation("shop.Customer", "Customer_orders+", "many", "shop.Order")
    visible = Relation("shop.Customer", "orders", "many", "shop.Order")
    assert nest_fix(fix, hidden) is None
    assert nest_fix(fix, visible) == type(fix)(
        "prefetch_related", '.prefetch_related("orders__items")'
    )


def membership(source: str | None) -> Chain:
    last = Relation(
        "shop.Item", "orders", "many", "shop.Order", "exists", False, "items", constant=True
    )
    return Chain(
        root="shop.Item", steps=(Step("shop.Item", "orders", True),), last=last, source=source
    )


def test_fix_for_membership_names_the_owner_from_the_source() -> None:
    fix = fix_for(membership("return self.orders.filter(pk=item.pk).exists()"))
    assert fix is not None
    assert fix.code == (
        '.annotate(has_orders=Exists(Order.objects.filter(items=OuterRef("pk"), pk=self.pk)))'
    )


def test_fix_for_membership_without_the_owner_text_writes_no_code() -> None:
    # A template line (no Python source): which object's set is tested cannot be written out, and
    # a placeholder such as `<the Order>.pk` is not code to paste.
    assert fix_for(membership(None)) is None


def test_fix_for_aggregate_without_its_field_writes_no_code() -> None:
    assert fix_for(chain("aggregate", None)) is None


def test_a_statement_that_cannot_be_read_gives_no_filtered_fix() -> None:
    """`.count()` on a line of its own, the filters on the lines above: no fix rather than a
    Count of every row."""
    assert fix_for(chain("count", ".count()")) is None
    assert fix_for(chain("exists", "status__in=OPEN).exists()")) is None
    # a plain read names no filter: its fix stands
    assert fix_for(chain("all", "for item in (")) == Fix(
        "prefetch_related", '.prefetch_related("items")'
    )


@pytest.mark.parametrize(
    ("via", "source"),
    [
        ("count", "n = order.items.filter(Q(paid=True) | Q(gift=True)).count()"),
        ("count", 'n = order.items.exclude(state="void").count()'),
        ("exists", "if order.items.filter(**open_filters).exists():"),
        ("filter", "for item in order.items.filter(Q(expires__isnull=True), paid=True):"),
        ("all", "for item in order.items.exclude(hidden=True):"),
    ],
)
def test_rows_left_out_otherwise_than_by_keyword_filters_give_no_fix(via: str, source: str) -> None:
    """A Q object, an exclude() or unpacked conditions: a fix that restated only the keyword
    filters, or none, would count or load other rows (a plain prefetch of every item)."""
    assert fix_for(chain(via, source)) is None


def test_calls_on_the_object_a_foreign_key_reads_are_not_its_filters() -> None:
    """`shift.event.type.preferences.get("x")`: the get() is the related object's, not a filter
    of the relation read; the join stands."""
    last = Relation("shop.Event", "type", "forward", "shop.EventType", "get", False, "events")
    fix = fix_for(
        Chain(
            root="shop.Shift",
            steps=(Step("shop.Shift", "event", False), Step("shop.Event", "type", False)),
            last=last,
            source='if self.event.type.preferences.get("required").exists():',
        )
    )
    assert fix is not None
    assert fix.code == '.select_related("event__type")'


@pytest.mark.parametrize(
    ("via", "source"),
    [
        # `paid_items` is a property returning order.items.filter(paid=True): the statement
        # names no `items`, so the filter is out of sight
        ("count", "n = order.paid_items.count()"),
        ("exists", "if order.paid_items.exists():"),
        # a queryset of the rows built on an earlier line, with its filters there
        ("count", "total = paid.count()"),
        # a filtered read through a property (`public_items` filters `items`): a Prefetch
        # without that filter would load other rows
        ("filter", "links = [i.url for i in order.public_items.all()]"),
    ],
)
def test_a_statement_that_does_not_name_the_relation_gives_no_count(via: str, source: str) -> None:
    assert fix_for(chain(via, source)) is None


def test_an_annotation_is_named_after_a_get_method_but_not_a_framework_hook() -> None:
    """A SerializerMethodField's `get_x` may read the annotation as `x`. A view's
    `get_context_data` counts on the way to its context: the relation's own name."""
    method = chain("count", "total = obj.items.count()", "get_item_total")
    hook = chain("count", "items = order.items.count()", "get_context_data")
    fix = fix_for(method)
    assert fix is not None
    assert fix.code == '.annotate(item_total=Count("items"))'
    fix = fix_for(hook)
    assert fix is not None
    assert fix.code == '.annotate(items_count=Count("items"))'


def test_a_filter_value_local_to_the_reading_function_gives_no_fix() -> None:
    """`shared_users` is bound in the function that reads each row: a fix placed where the rows
    are queried cannot name it. `self` can be (a view's own method queries its rows)."""
    source = "n = order.items.filter(owner__in=shared_users).count()"
    local = Chain(
        root="shop.Order",
        steps=(Step("shop.Order", "items", True),),
        last=Relation("shop.Order", "items", "reverse_many", "shop.Item", "count", False, "order"),
        source=source,
        local_names=("order", "shared_users"),
    )
    assert fix_for(local) is None
    own = replace(local, source="n = order.items.filter(owner=self.request.user).count()")
    own = replace(own, local_names=("order", "self"))
    fix = fix_for(own)
    assert fix is not None
    assert fix.code == (
        '.annotate(items_count=Count("items", filter=Q(items__owner=self.request.user)))'
    )
