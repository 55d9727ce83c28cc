"""The writes a real client needs, in both variants: status and effect."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from campaigns.models import Campaign, CampaignPayout
from lms.models import CourseReview, Enrollment, MediaFile, PaymentIntent, UserProfile
from sample_project.seed.base import BASE_TIME

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ClientFor = Callable[[str | None], Client]


def post(client: Client, path: str, data: dict[str, object]) -> object:
    return client.post(path, data, content_type="application/json")


def test_login_returns_a_token_that_authenticates() -> None:
    response = post(Client(), "/api/auth/login/", {"username": "student1", "password": "password"})

    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(key=token).user.username == "student1"
    assert UserProfile.objects.get(user__username="student1").last_login > BASE_TIME
    profile = Client().get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Token {token}")
    assert profile.status_code == 200
    assert profile.json()["username"] == "student1"


def test_login_refuses_a_wrong_password() -> None:
    response = post(Client(), "/api/auth/login/", {"username": "student1", "password": "nope"})

    assert response.status_code == 400
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("student1", "/api/auth/profile/"),
        ("instructor1", "/api/instructor/courses/"),
        ("admin1", "/api/users/recent/"),
        ("instructor1", "/api/media/?status=pending"),
        ("student1", "/api/enrollments/?status=active"),
        ("student1", "/api/payments/?status=succeeded"),
        ("advertiser1", "/api/campaigns/"),
        ("manager1", "/api/projects/"),
    ],
)
def test_token_auth_reaches_every_private_list(username: str, path: str) -> None:
    token = Token.objects.create(user_id=UserProfile.objects.get(user__username=username).user_id)

    assert Client().get(path).status_code in (401, 403)
    assert Client().get(path, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_enroll_creates_the_enrollment_and_its_payment(client_for: ClientFor) -> None:
    enrolled = Enrollment.objects.filter(user__username="student2").values_list("course_id")
    course_id = (
        Enrollment.objects.exclude(course_id__in=enrolled)
        .filter(course__is_published=True)
        .values_list("course_id", flat=True)
        .order_by("course_id")[0]
    )
    client = client_for("student2")

    response = post(client, f"/api/courses/{course_id}/enroll/", {})

    assert response.status_code == 201
    assert response.json()["status"] == "active"
    enrollment = Enrollment.objects.get(pk=response.json()["id"])
    assert (enrollment.user.username, enrollment.course_id) == ("student2", course_id)
    payment = PaymentIntent.objects.get(provider_reference=f"pi_enroll_{enrollment.pk}")
    assert (payment.payment_status, payment.amount) == ("succeeded", enrollment.payment_amount)
    assert post(client, f"/api/courses/{course_id}/enroll/", {}).status_code == 400


def test_review_needs_an_active_enrollment(client_for: ClientFor) -> None:
    enrollment = (
        Enrollment.objects.filter(status="active", review__isnull=True).order_by("id").first()
    )
    assert enrollment is not None
    path = f"/api/courses/{enrollment.course_id}/reviews/"
    outsider = (
        User.objects.filter(groups__name="student")
        .exclude(enrollments__course=enrollment.course)
        .order_by("id")[0]
    )

    refused = post(client_for(outsider.username), path, {"rating": 5, "comment": "Sneaky"})
    response = post(client_for(enrollment.user.username), path, {"rating": 4, "comment": "Good"})

    assert refused.status_code == 403
    assert response.status_code == 201
    assert response.json()["student"] == enrollment.user.username
    assert CourseReview.objects.get(enrollment=enrollment).rating == 4
    again = post(client_for(enrollment.user.username), path, {"rating": 1, "comment": "Again"})
    assert again.status_code == 400


def test_review_rating_is_validated(client_for: ClientFor) -> None:
    enrollment = (
        Enrollment.objects.filter(status="active", review__isnull=True).order_by("id").first()
    )
    assert enrollment is not None
    path = f"/api/courses/{enrollment.course_id}/reviews/"

    response = post(client_for(enrollment.user.username), path, {"rating": 9})

    assert response.status_code == 400
    assert "rating" in response.json()


def test_create_campaign_on_the_advertisers_account(client_for: ClientFor) -> None:
    data = {
        "name": "Autumn push",
        "status": "draft",
        "budget": "1500.00",
        "starts_on": "2025-03-01",
    }

    response = post(client_for("advertiser1"), "/api/campaigns/", data)

    assert response.status_code == 201
    assert response.json()["account"] == "Northwind Media 1 (advertiser1)"
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert (campaign.account.owner.username, campaign.name) == ("advertiser1", "Autumn push")


def test_create_payout_on_an_own_campaign_only(client_for: ClientFor) -> None:
    own = Campaign.objects.filter(account__owner__username="advertiser1").order_by("id")[0]
    other = Campaign.objects.filter(account__owner__username="advertiser2").order_by("id")[0]
    client = client_for("advertiser1")
    data = {"recipient": "newsbeat", "amount": "12.50"}

    response = post(client, f"/api/campaigns/{own.pk}/payouts/", data)
    foreign = post(client, f"/api/campaigns/{other.pk}/payouts/", data)

    assert response.status_code == 201
    payout = CampaignPayout.objects.get(pk=response.json()["id"])
    assert (payout.campaign_id, payout.status, str(payout.amount)) == (own.pk, "pending", "12.50")
    assert foreign.status_code == 404


def test_media_upload_is_queued_for_processing(client_for: ClientFor) -> None:
    data = {"file_name": "intro.mp4", "content_type": "video/mp4", "size_bytes": 1234}

    response = post(client_for("instructor1"), "/api/media/", data)
    refused = post(client_for("student1"), "/api/media/", data)

    assert response.status_code == 201
    assert response.json()["processing_status"] == "pending"
    media = MediaFile.objects.get(pk=response.json()["id"])
    assert (media.owner.username, media.file_name) == ("instructor1", "intro.mp4")
    assert refused.status_code == 403
