"""The N+1 detector on plain data: no Django, no database."""

from __future__ import annotations

from perftoolkit.core.diagnosis.nplusone import detect_nplusone
from perftoolkit.core.events import CallSite, EagerLoad, QueryEvent, Relation, RequestProfile
from perftoolkit.core.findings import DetectionOptions
from perftoolkit.core.fingerprint import fingerprint

OPTIONS = DetectionOptions(nplusone_threshold=3)
VIEW = CallSite("shop/views.py", 10, "orders")
LOOP = CallSite("shop/views.py", 12, "orders")
ORDERS = 'SELECT "shop_order"."id" FROM "shop_order" LIMIT 20'
CUSTOMER = (
    'SELECT "shop_customer"."id" FROM "shop_customer" WHERE "shop_customer"."id" = %s LIMIT 21'
)
ADDRESS = 'SELECT "shop_address"."id" FROM "shop_address" WHERE "shop_address"."id" = %s LIMIT 21'
CUSTOMER_REL = Relation(
    "shop.Order", "customer", "forward", "shop.Customer", "get", False, "orders"
)
ADDRESS_REL = Relation(
    "shop.Customer", "address", "forward", "shop.Address", "get", False, "customers"
)


def event(
    sql: str,
    site: CallSite | None = LOOP,
    relation: Relation | None = None,
    key: str = "",
    **kw: object,
) -> QueryEvent:
    return QueryEvent(
        sql=sql,
        fingerprint=fingerprint(sql),
        ms=1.0,
        callsite=site,
        relation=relation,
        params_key=key or None,
        **kw,
    )  # type: ignore[arg-type]


def root() -> QueryEvent:
    return event(ORDERS, VIEW, model="shop.Order")


def profile(*queries: QueryEvent, **kw: object) -> RequestProfile:
    return RequestProfile(method="GET", route="orders/", queries=queries, **kw)  # type: ignore[arg-type]


def test_detect_nplusone_forward_fk() -> None:
    rows = [event(CUSTOMER, relation=CUSTOMER_REL, key=str(i)) for i in range(4)]
    [finding] = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert (finding.model, finding.field, finding.path, finding.repeats) == (
        "shop.Order",
        "customer",
        "customer",
        4,
    )
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("customer")'
    assert (finding.callsite, finding.origin) == (LOOP, VIEW)
    assert (
        finding.sql_example
        == 'SELECT "shop_customer"."id" FROM "shop_customer" WHERE "shop_customer"."id" = ? LIMIT ?'
    )


def test_detect_nplusone_below_threshold() -> None:
    rows = [event(CUSTOMER, relation=CUSTOMER_REL, key=str(i)) for i in range(2)]
    assert detect_nplusone(profile(root(), *rows), OPTIONS) == []


def test_detect_nplusone_same_related_row_on_every_row_is_still_nplusone() -> None:
    # Every order belongs to one customer: still one query per row (each instance's cache is empty).
    rows = [event(CUSTOMER, relation=CUSTOMER_REL, key="same") for _ in range(5)]
    [finding] = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("customer")'


def test_detect_nplusone_identical_statement_without_relation_is_a_duplicate() -> None:
    rows = [event("SELECT * FROM settings WHERE key = %s", key="same") for _ in range(5)]
    assert detect_nplusone(profile(root(), *rows), OPTIONS) == []


def test_detect_nplusone_different_callsites_are_different_groups() -> None:
    elsewhere = CallSite("shop/views.py", 30, "orders")
    rows = [
        event(CUSTOMER, site=LOOP if i % 2 else elsewhere, relation=CUSTOMER_REL, key=str(i))
        for i in range(4)
    ]
    assert detect_nplusone(profile(root(), *rows), OPTIONS) == []


def test_detect_nplusone_writes_are_ignored() -> None:
    rows = [
        event('UPDATE "shop_order" SET "seen" = %s WHERE "id" = %s', key=str(i)) for i in range(5)
    ]
    assert detect_nplusone(profile(root(), *rows), OPTIONS) == []


def test_detect_nplusone_chain_interleaved_across_lines() -> None:
    other_line = CallSite("shop/views.py", 13, "orders")
    rows = []
    for i in range(3):
        rows.append(event(CUSTOMER, relation=CUSTOMER_REL, key=f"c{i}"))
        rows.append(event(ADDRESS, site=other_line, relation=ADDRESS_REL, key=f"a{i}"))
    [finding] = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert finding.path == "customer__address"
    assert finding.repeats == 6
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("customer__address")'
    assert finding.message.startswith(
        "N+1: Order.customer → Customer.address runs once per Order row (6 queries)"
    )


def test_detect_nplusone_mixed_chain_joins_then_prefetches() -> None:
    tags = Relation("shop.Customer", "tags", "many", "shop.Tag", "all", False, "customers")
    tag_sql = 'SELECT "shop_tag"."id" FROM "shop_tag" INNER JOIN "shop_customer_tags" ON 1=1 WHERE "c"."id" = %s'
    rows = []
    for i in range(3):
        rows.append(event(CUSTOMER, relation=CUSTOMER_REL, key=f"c{i}"))
        rows.append(event(tag_sql, relation=tags, key=f"t{i}"))
    [finding] = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("customer").prefetch_related("customer__tags")'


def test_detect_nplusone_partial_eager_load_extends_the_path() -> None:
    eager = EagerLoad(
        "shop.Order", "customer", "select", VIEW, "shop.Customer", (("shop.Order", "customer"),)
    )
    loaded = event(ORDERS, VIEW, model="shop.Order", eager=(("select", "customer"),))
    rows = [event(ADDRESS, relation=ADDRESS_REL, key=str(i)) for i in range(3)]
    [finding] = detect_nplusone(profile(loaded, *rows, eager_loads=(eager,)), OPTIONS)
    assert (finding.model, finding.field, finding.path) == (
        "shop.Order",
        "customer",
        "customer__address",
    )
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("customer__address")'
    assert finding.origin == VIEW


CUSTOMERS = 'SELECT "shop_customer"."id" FROM "shop_customer"'
CUSTOMERS_AT = CallSite("shop/views.py", 11, "orders")


def test_detect_nplusone_eager_load_that_did_not_build_the_rows_is_not_their_origin() -> None:
    """An eager load reaches Customer, but the rows whose address is read were built by another
    query (index 1, `rows_from`): that query is their origin, with no eager prefix."""
    eager = EagerLoad(
        "shop.Order", "customer", "select", VIEW, "shop.Customer", (("shop.Order", "customer"),)
    )
    loaded = event(ORDERS, VIEW, model="shop.Order", eager=(("select", "customer"),))
    customers = event(CUSTOMERS, CUSTOMERS_AT, model="shop.Customer")
    rows = [event(ADDRESS, relation=ADDRESS_REL, key=str(i), rows_from=1) for i in range(3)]
    [finding] = detect_nplusone(profile(loaded, customers, *rows, eager_loads=(eager,)), OPTIONS)
    assert (finding.model, finding.path, finding.origin) == (
        "shop.Customer",
        "address",
        CUSTOMERS_AT,
    )
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("address")'


def test_detect_nplusone_eager_load_that_built_the_rows_is_their_origin() -> None:
    eager = EagerLoad(
        "shop.Order", "customer", "select", VIEW, "shop.Customer", (("shop.Order", "customer"),)
    )
    loaded = event(ORDERS, VIEW, model="shop.Order", eager=(("select", "customer"),))
    customers = event(CUSTOMERS, CUSTOMERS_AT, model="shop.Customer")
    rows = [event(ADDRESS, relation=ADDRESS_REL, key=str(i), rows_from=0) for i in range(3)]
    [finding] = detect_nplusone(profile(loaded, customers, *rows, eager_loads=(eager,)), OPTIONS)
    assert (finding.model, finding.path, finding.origin) == (
        "shop.Order",
        "customer__address",
        VIEW,
    )


def test_detect_nplusone_rows_no_eager_load_built_have_no_eager_prefix() -> None:
    eager = EagerLoad(
        "shop.Order", "customer", "select", VIEW, "shop.Customer", (("shop.Order", "customer"),)
    )
    loaded = event(ORDERS, VIEW, model="shop.Order", eager=(("select", "customer"),))
    rows = [event(ADDRESS, relation=ADDRESS_REL, key=str(i), rows_from=-1) for i in range(3)]
    [finding] = detect_nplusone(profile(loaded, *rows, eager_loads=(eager,)), OPTIONS)
    assert (finding.model, finding.path) == ("shop.Customer", "address")


def test_detect_nplusone_one_objects_set_read_with_the_same_parameters_is_not_per_row() -> None:
    # `tag.books.exists()` in a loop: the same object (constant, or same_object) and the same
    # parameters on every run: a duplicate query, which the duplicate detector reports.
    member = Relation("shop.Book", "tags", "many", "shop.Tag", "exists", False, "books", True)
    sql = 'SELECT 1 AS "a" FROM "shop_book_tags" WHERE "tag_id" = %s LIMIT 1'
    same = [event(sql, relation=member, key="k") for _ in range(4)]
    assert detect_nplusone(profile(root(), *same), OPTIONS) == []
    again = Relation(
        "shop.Customer", "orders", "reverse_many", "shop.Order", "count", same_object=True
    )
    counted = [event(sql, relation=again, key="k") for _ in range(4)]
    assert detect_nplusone(profile(root(), *counted), OPTIONS) == []
    # Different parameters: one query per row after all.
    varying = [event(sql, relation=again, key=str(i)) for i in range(4)]
    assert len(detect_nplusone(profile(root(), *varying), OPTIONS)) == 1


def test_detect_nplusone_view_queryset_of_other_rows_is_no_origin() -> None:
    """The view's queryset (its rows are Orders, handed to a paginator) is not where Customer rows
    a template queried come from: no origin rather than that line."""
    definition = CallSite("shop/views.py", 40, "OrderList.get_queryset")
    template = CallSite("shop/templates/orders.html", 3, "")
    orders = event(ORDERS, VIEW, model="shop.Order", handed_off=True)
    customers = event(CUSTOMERS, template, model="shop.Customer")
    rows = [event(ADDRESS, template, ADDRESS_REL, key=str(i), rows_from=1) for i in range(3)]
    [finding] = detect_nplusone(
        profile(orders, customers, *rows, queryset_site=definition), OPTIONS
    )
    assert (finding.model, finding.path, finding.origin) == ("shop.Customer", "address", None)


def test_detect_nplusone_user_loaded_elsewhere_does_not_make_the_view_queryset_theirs() -> None:
    """The request's user, loaded by library code from another file (a session), is not a row
    of the view: the view's queryset (of Orders) is no origin for rows of users."""
    definition = CallSite("shop/views.py", 40, "OrderDetail.get_queryset")
    template = CallSite("shop/templates/order.html", 3, "")
    user_sql = 'SELECT "auth_user"."id" FROM "auth_user" WHERE "auth_user"."id" = %s'
    load = CallSite("shop/middleware.py", 5, "load")
    user = event(user_sql, load, model="auth.User", handed_off=True)
    order = event(ORDERS, VIEW, model="shop.Order", handed_off=True)
    votes = Relation("auth.User", "votes", "reverse_many", "shop.Vote", "exists", False, "user")
    sql = 'SELECT 1 AS "a" FROM "shop_vote" WHERE "user_id" = %s LIMIT 1'
    rows = [event(sql, template, votes, key=str(i)) for i in range(3)]
    [finding] = detect_nplusone(profile(user, order, *rows, queryset_site=definition), OPTIONS)
    assert (finding.model, finding.path, finding.origin) == ("auth.User", "votes", None)


def test_detect_nplusone_view_of_other_rows_named_by_its_class_is_no_origin() -> None:
    """The view names its rows (`model = Order`): Customer rows a template queried are not
    placed at its queryset; Order rows are."""
    definition = CallSite("shop/views.py", 40, "OrderList.get_queryset")
    template = CallSite("shop/templates/orders.html", 3, "")
    customers = event(CUSTOMERS, template, model="shop.Customer")
    rows = [event(ADDRESS, template, ADDRESS_REL, key=str(i), rows_from=0) for i in range(3)]
    named = {"queryset_site": definition, "queryset_model": "shop.Order"}
    [finding] = detect_nplusone(profile(customers, *rows, **named), OPTIONS)
    assert (finding.model, finding.origin) == ("shop.Customer", None)
    orders = event(ORDERS, template, model="shop.Order")
    own = [event(CUSTOMER, template, CUSTOMER_REL, key=str(i), rows_from=0) for i in range(3)]
    [finding] = detect_nplusone(profile(orders, *own, **named), OPTIONS)
    assert (finding.model, finding.origin) == ("shop.Order", definition)
    again = RequestProfile.from_dict(profile(orders, *own, **named).to_dict())
    assert (again.queryset_model, again.queries[1].rows_from) == ("shop.Order", 0)


def test_detect_nplusone_origin_falls_back_to_the_view_queryset() -> None:
    definition = CallSite("shop/api.py", 40, "OrderList.get_queryset")
    rows = [event(CUSTOMER, site=None, relation=CUSTOMER_REL, key=str(i)) for i in range(3)]
    [finding] = detect_nplusone(
        profile(event(ORDERS, None, model="shop.Order"), *rows, queryset_site=definition), OPTIONS
    )
    assert finding.origin == definition
    assert finding.callsite is None


def test_detect_nplusone_lookup_without_relation_uses_the_root_model() -> None:
    by_order = Relation(
        "shop.Order", "payments", "reverse_many", "shop.Payment", "exists", False, "order"
    )
    by_user = Relation(
        "auth.User", "payment_set", "reverse_many", "shop.Payment", "exists", False, "user"
    )
    sql = 'SELECT 1 AS "a" FROM "shop_payment" WHERE ("order_id" = %s AND "user_id" = %s) LIMIT 1'
    source = "return Payment.objects.filter(order=obj, user=self.user).exists()"
    rows = [event(sql, lookups=(by_user, by_order), key=str(i), source=source) for i in range(3)]
    [finding] = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert (finding.model, finding.field) == ("shop.Order", "payments")
    assert finding.fix is not None
    assert (
        finding.fix.code
        == '.annotate(has_payments=Exists(Payment.objects.filter(order=OuterRef("pk"), user=self.user)))'
    )


def test_detect_nplusone_unattributed_shape_still_reported() -> None:
    sql = "SELECT name FROM legacy WHERE code = %s"
    rows = [event(sql, key=str(i)) for i in range(3)]
    [finding] = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert (finding.model, finding.field, finding.fix) == ("shop.Order", None, None)
    assert finding.repeats == 3
    assert "the same query ran 3 times at shop/views.py:12" in finding.message


def test_detect_nplusone_unattributed_names_no_rows_it_has_no_evidence_for() -> None:
    """The nearest rows query ran from another file (a middleware's lookup, a form's choices):
    nothing ties the repeats to its rows, so the finding names neither its model nor its line."""
    sql = 'SELECT "value" FROM "cache_table" WHERE "cache_key" IN (%s)'
    elsewhere = event(ORDERS, CallSite("shop/middleware.py", 30, "__call__"), model="shop.Order")
    rows = [event(sql, CallSite("cache.py", 8, "get"), key=str(i)) for i in range(3)]
    [finding] = detect_nplusone(profile(elsewhere, *rows), OPTIONS)
    assert (finding.model, finding.origin, finding.fix) == (None, None, None)
    assert finding.message.startswith("N+1: the same query ran 3 times at cache.py:8 ")


def test_detect_nplusone_unattributed_names_no_rows_another_function_of_its_file_loaded() -> None:
    """A content type looked up (once per process: its cache was cold) by another function of the
    file whose descriptor loads one row per object: not the rows a loop there went over. The
    request after, with the cache warm, said the same without it: one finding, not two."""
    sql = 'SELECT "dcim_port"."id" FROM "dcim_port" WHERE "dcim_port"."id" = %s LIMIT 21'
    content_type = event(
        'SELECT "django_content_type"."id" FROM "django_content_type" WHERE "id" = %s LIMIT 21',
        CallSite("utilities/fields.py", 225, "get_content_type_by_id"),
        model="contenttypes.ContentType",
    )
    read = CallSite("utilities/fields.py", 311, "__get__")
    rows = [event(sql, read, key=str(i), model="dcim.Port") for i in range(3)]
    cold = detect_nplusone(profile(root(), content_type, *rows), OPTIONS)
    warm = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert [(f.model, f.origin) for f in cold] == [("dcim.Port", None)]
    assert cold == warm
    # The same function queried the rows, then read each: a loop over them there.
    listed = event(ORDERS, CallSite("utilities/fields.py", 305, "__get__"), model="shop.Order")
    [looped] = detect_nplusone(profile(listed, *rows), OPTIONS)
    assert (looped.model, looped.origin) == ("shop.Order", listed.callsite)


def test_detect_nplusone_unattributed_takes_the_rows_the_capture_saw_built() -> None:
    sql = "SELECT name FROM legacy WHERE code = %s"
    lookup = event(ORDERS, CallSite("shop/middleware.py", 30, "__call__"), model="shop.User")
    rows = [event(sql, key=str(i), rows_from=0) for i in range(3)]
    [finding] = detect_nplusone(profile(root(), lookup, *rows), OPTIONS)
    assert (finding.model, finding.origin) == ("shop.Order", VIEW)


def test_detect_nplusone_threshold_is_configurable() -> None:
    rows = [event(CUSTOMER, relation=CUSTOMER_REL, key=str(i)) for i in range(4)]
    assert detect_nplusone(profile(root(), *rows), DetectionOptions(nplusone_threshold=5)) == []


def test_detect_nplusone_count_and_iteration_share_one_prefetch() -> None:
    items = 'SELECT "shop_item"."id" FROM "shop_item" WHERE "shop_item"."order_id" = %s'
    count = 'SELECT COUNT(*) AS "__count" FROM "shop_item" WHERE "shop_item"."order_id" = %s'
    listed = Relation("shop.Order", "items", "reverse_many", "shop.Item", "all", False, "order")
    counted = Relation("shop.Order", "items", "reverse_many", "shop.Item", "count", False, "order")
    other = CallSite("shop/views.py", 13, "orders")
    rows = []
    for i in range(3):
        rows.append(event(count, relation=counted, key=f"c{i}"))
        rows.append(event(items, site=other, relation=listed, key=f"i{i}"))
    findings = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert [(f.path, f.fix.code if f.fix else None) for f in findings] == [
        ("items", '.prefetch_related("items")'),
        ("items", '.prefetch_related("items")'),
    ]
    assert findings[0].fix is not None
    assert (
        findings[0].fix.note
        == "the prefetch the rows' iteration needs also answers .count() without a query."
    )
    assert '.prefetch_related("items")' in findings[0].message


def test_one_relation_read_after_a_link_on_two_lines_is_one_finding() -> None:
    """Each order's customer (loaded per row), then its address read on the loop's line and read
    again in a helper: one chain forks at the customer, both forks end at Customer.address. One
    finding, one fix, with every address query counted (the customers' once)."""
    helper = CallSite("shop/helpers.py", 4, "label")
    rows = []
    for i in range(4):
        rows.append(event(CUSTOMER, relation=CUSTOMER_REL, key=f"c{i}"))
        rows.append(event(ADDRESS, relation=ADDRESS_REL, key=f"a{i}"))
        rows.append(event(ADDRESS, helper, relation=ADDRESS_REL, key=f"a{i}"))
    [finding] = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert (finding.path, finding.repeats, str(finding.callsite)) == (
        "customer__address",
        12,
        str(LOOP),
    )
    assert finding.fix is not None
    assert finding.fix.code == '.select_related("customer__address")'
    assert "(12 queries)" in finding.message


def test_two_relations_after_one_link_are_two_findings_counting_the_link_once() -> None:
    """Each order's customer, then the customer's address and its orders counted: two chains
    from the customer, the customers' queries counted in the first."""
    count = 'SELECT COUNT(*) FROM "shop_order" WHERE "shop_order"."customer_id" = %s'
    counted = Relation(
        "shop.Customer", "orders", "reverse_many", "shop.Order", "count", False, "customer"
    )
    rows = []
    for i in range(4):
        rows.append(event(CUSTOMER, relation=CUSTOMER_REL, key=f"c{i}"))
        rows.append(event(ADDRESS, relation=ADDRESS_REL, key=f"a{i}"))
        rows.append(event(count, relation=counted, key=f"n{i}", source="n = c.orders.count()"))
    found = detect_nplusone(profile(root(), *rows), OPTIONS)
    assert [(f.path, f.repeats, f.fix.code if f.fix else "") for f in found] == [
        ("customer__address", 8, '.select_related("customer__address")'),
        ("customer__orders", 4, '.annotate(orders_count=Count("customer__orders"))'),
    ]
