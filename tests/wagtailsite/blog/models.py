"""Two page types: the index lists its posts' authors one query per post (an N+1)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest
from wagtail.models import Page


class Author(models.Model):
    name = models.CharField(max_length=50)


class BlogIndexPage(Page):
    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        posts = BlogPage.objects.child_of(self).live().order_by("pk")
        context["authors"] = [post.author.name for post in posts]  # case: wagtail_index
        return context


class BlogPage(Page):
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="posts")
