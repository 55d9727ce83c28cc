"""perftoolkit: find and prove performance problems in Django backends.

Importing this package is cheap and has no side effects: Django settings are read only when a
middleware, command or check runs.
"""

from __future__ import annotations

__version__ = "0.1.0"
