from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("corpus", "0006_memo"),
    ]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="similar",
            field=models.ManyToManyField(blank=True, to="corpus.tag"),
        ),
    ]
