from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("corpus", "0007_tag_similar"),
    ]

    operations = [
        migrations.CreateModel(
            name="ShelfBook",
            fields=[],
            options={"proxy": True, "indexes": [], "constraints": []},
            bases=("corpus.book",),
        ),
    ]
