"""The lazy-relation detector on plain data: one row's relations read a query each."""

from __future__ import annotations

from perftoolkit.core.diagnosis.lazy import detect_lazy_relations
from perftoolkit.core.events import CallSite, QueryEvent, Relation, RequestProfile
from perftoolkit.core.findings import DetectionOptions
from perftoolkit.core.fingerprint import fingerprint

OPTIONS = DetectionOptions(nplusone_threshold=3)
VIEW = CallSite("shop/views.py", 10, "OrderDetail.get_queryset")
FIELD = CallSite("shop/serializers.py", 20, "to_representation")
COUNT_SITE = CallSite("shop/serializers.py", 30, "get_item_count")
ORDER = 'SELECT "shop_order"."id" FROM "shop_order" WHERE "shop_order"."id" = %s LIMIT 21'
ORDERS = 'SELECT "shop_order"."id" FROM "shop_order" ORDER BY "shop_order"."id" DESC'
CUSTOMER = (
    'SELECT "shop_customer"."id" FROM "shop_customer" WHERE "shop_customer"."id" = %s LIMIT 21'
)
ADDRESS = 'SELECT "shop_address"."id" FROM "shop_address" WHERE "shop_address"."id" = %s LIMIT 21'
ITEMS = 'SELECT COUNT(*) AS "__count" FROM "shop_item" WHERE "shop_item"."order_id" = %s'
TAGS = 'SELECT "shop_tag"."id" FROM "shop_tag" INNER JOIN "shop_order_tags" ON 1 WHERE "shop_order_tags"."order_id" = %s'
CUSTOMER_REL = Relation(
    "shop.Order", "customer", "forward", "shop.Customer", "get", False, "orders"
)
ADDRESS_REL = Relation(
    "shop.Customer", "address", "forward", "shop.Address", "get", False, "customers"
)
ITEMS_REL = Relation("shop.Order", "items", "reverse_many", "shop.Item", "count", False, "order")
TAGS_REL = Relation("shop.Order", "tags", "many", "shop.Tag", "all", False, "orders")


def event(sql: str, site: CallSite | None = FIELD, **kw: object) -> QueryEvent:
    return QueryEvent(sql=sql, fingerprint=fingerprint(sql), ms=1.0, callsite=site, **kw)  # type: ignore[arg-type]


def root(sql: str = ORDER) -> QueryEvent:
    # A generic view's get_object() ran it: library code, handed the view's queryset.
    return event(sql, None, model="shop.Order", handed_off=True)


def customer() -> QueryEvent:
    return event(CUSTOMER, relation=CUSTOMER_REL, model="shop.Customer")


def address() -> QueryEvent:
    return event(ADDRESS, relation=ADDRESS_REL, model="shop.Address")


def items(source: str | None = "return order.items.count()") -> QueryEvent:
    return event(ITEMS, COUNT_SITE, relation=ITEMS_REL, model="shop.Item", source=source)


def detail(*queries: QueryEvent) -> RequestProfile:
    return RequestProfile(
        method="GET",
        route="orders/<int:pk>/",
        queries=queries,
        queryset_site=VIEW,
        queryset_model="shop.Order",
    )


def summary(profile: RequestProfile) -> list[tuple[str | None, str, int, str]]:
    return [
        (f.path, f.fix.code if f.fix else "", f.repeats, str(f.origin))
        for f in detect_lazy_relations(profile, OPTIONS)
    ]


def test_a_chain_of_joins_and_a_count_on_one_row_are_one_finding_each() -> None:
    found = detect_lazy_relations(detail(root(), customer(), address(), items()), OPTIONS)
    assert [(f.kind, f.severity, f.model, f.field) for f in found] == [
        ("lazy_relation", "info", "shop.Order", "customer"),
        ("lazy_relation", "info", "shop.Order", "items"),
    ]
    assert summary(detail(root(), customer(), address(), items())) == [
        ("customer__address", '.select_related("customer__address")', 2, "shop/views.py:10"),
        ("items", '.annotate(item_count=Count("items"))', 1, "shop/views.py:10"),
    ]
    assert found[0].message == (
        "Lazy read: Order.customer → Customer.address on one Order row runs 2 queries of its own "
        'at shop/serializers.py:20; add .select_related("customer__address") where the Order row '
        "is queried (shop/views.py:10)."
    )


def test_one_lazy_read_is_not_worth_a_finding() -> None:
    assert summary(detail(root(), customer())) == []
    assert summary(detail(root(), items())) == []


def test_the_filters_of_a_count_are_repeated_from_its_source_line() -> None:
    code = "return order.items.filter(shipped=True).count()"
    [_, counted] = summary(detail(root(), customer(), items(code)))
    assert counted[1] == '.annotate(item_count=Count("items", filter=Q(items__shipped=True)))'


def test_a_count_whose_source_is_not_recorded_is_left_out() -> None:
    # Its filters are unknown: an unfiltered Count could count other rows.
    assert summary(detail(root(), customer(), address(), items(source=None))) == [
        ("customer__address", '.select_related("customer__address")', 2, "shop/views.py:10"),
    ]


def test_a_prefetch_of_one_rows_set_saves_nothing_and_is_not_counted() -> None:
    tags = event(TAGS, relation=TAGS_REL, model="shop.Tag")
    # tags.all() is a query with or without prefetch_related: only the customer would be saved.
    assert summary(detail(root(), customer(), tags)) == []
    assert [s[0] for s in summary(detail(root(), customer(), tags, address()))] == [
        "customer__address"
    ]


def test_rows_of_a_list_are_not_one_row() -> None:
    # select_related on a list joins for every row to save one row's query.
    assert summary(detail(root(ORDERS), customer(), address(), items())) == []


def test_a_repeated_read_is_a_duplicate_or_an_n_plus_one_not_a_lazy_read() -> None:
    assert summary(detail(root(), customer(), customer(), address())) == []


def test_the_row_of_an_n_plus_one_is_left_to_that_finding() -> None:
    # The order's customer has addresses read once per row elsewhere: the customers are an
    # N+1's rows; the N+1's fix (nested in a prefetch) covers them.
    per_row = [
        event(ADDRESS, CallSite("shop/views.py", 40, "f"), relation=ADDRESS_REL, params_key=str(i))
        for i in range(3)
    ]
    # Left: the count alone, one query.
    assert summary(detail(root(), customer(), items(), *per_row)) == []


def test_no_finding_without_a_project_line_to_write_it() -> None:
    profile = RequestProfile(
        method="GET", route="me/", queries=(root(), customer(), address(), items())
    )
    assert summary(profile) == []


def test_the_same_statement_run_for_another_reason_does_not_hide_a_lazy_read() -> None:
    # The session's user is loaded by its id: the statement of a row's foreign key to users.
    session_user = event(CUSTOMER, None, model="shop.Customer")
    assert [s[0] for s in summary(detail(session_user, root(), customer(), address()))] == [
        "customer__address"
    ]


def test_a_read_of_the_row_a_request_already_loaded_is_the_duplicates() -> None:
    # The profile's user is the session's user: the same statement, the same parameters.
    session_user = event(CUSTOMER, None, model="shop.Customer", params_key="7")
    read = event(CUSTOMER, relation=CUSTOMER_REL, model="shop.Customer", params_key="7")
    assert summary(detail(session_user, root(), read, address())) == []
