"""One query shape per view; the comment names the index it wants."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from tests.shop.models import Customer, Order


def queue(request: HttpRequest) -> JsonResponse:
    # (status, placed_at)
    orders = Order.objects.filter(status=request.GET["status"]).order_by("placed_at")[:20]
    return JsonResponse({"ids": [o.pk for o in orders]})


def mine(request: HttpRequest) -> JsonResponse:
    # (customer_id, status): the foreign key's index serves only the customer.
    orders = Order.objects.filter(
        customer_id=int(request.GET["customer"]), status=request.GET["status"]
    ).order_by("id")
    return JsonResponse({"ids": [o.pk for o in orders]})


def recent(request: HttpRequest) -> JsonResponse:
    # (-last_seen)
    customers = Customer.objects.filter(last_seen__isnull=False).order_by("-last_seen")[:20]
    return JsonResponse({"ids": [c.pk for c in customers]})


def orders_of(request: HttpRequest) -> JsonResponse:
    # The foreign key's own index serves it.
    orders = Order.objects.filter(customer_id=int(request.GET["customer"]))
    return JsonResponse({"count": len(orders)})
