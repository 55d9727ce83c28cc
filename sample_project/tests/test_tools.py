"""SAMPLE_TOOLS=1: django-debug-toolbar with perftoolkit's panel, and django-silk, side by side.

Settings are read at start-up, so the project runs in a process of its own with the variable set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SCRIPT = """
import re
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
call_command("migrate", verbosity=0, run_syncdb=True)
from silk.models import Request
html = Client(REMOTE_ADDR="127.0.0.1").get("/catalog/").content.decode()
request_id = re.search(r'data-request-id="([0-9a-f]+)"', html).group(1)
panel = Client(REMOTE_ADDR="127.0.0.1").get(
    "/__debug__/render_panel/", {"request_id": request_id, "panel_id": "PerfPanel"}
).json()["content"]
print("toolbar panel:", 'id="djdt-PerfPanel"' in html or 'class="PerfPanel"' in html)
print("panel endpoint:", "<h4>GET catalog/</h4>" in panel)
print("silk requests:", Request.objects.filter(path="/catalog/").count())
"""


def test_sample_tools_wire_the_panel_and_silk(tmp_path: Path) -> None:
    env = os.environ | {
        "SAMPLE_TOOLS": "1",
        "DJANGO_SETTINGS_MODULE": "sample_project.settings",
        "DATABASE_URL": f"sqlite://{tmp_path / 'tools.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); exec(open(0).read())"],
        input=SCRIPT,
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-3:] == [
        "toolbar panel: True",
        "panel endpoint: True",
        "silk requests: 1",
    ]
