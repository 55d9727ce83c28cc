"""A relation another library defines: django-taggit's TaggableManager is a field that is its own
descriptor, and `recipe.labels` hands out a manager of taggit's, not one of Django's."""

from __future__ import annotations

from django.db import models
from taggit.managers import TaggableManager


class Recipe(models.Model):
    title = models.CharField(max_length=50)
    labels = TaggableManager(blank=True)


class Menu(models.Model):
    name = models.CharField(max_length=50)
    labels = TaggableManager(blank=True)
