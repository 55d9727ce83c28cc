"""The budget file, `perf-budgets.toml`: finding it, reading it strictly, rewriting it in place.

```toml
[defaults]
queries = 20          # any endpoint without its own `queries`
unlisted = "ignore"   # or "fail": every endpoint a run reaches must have a table

[endpoints."GET api/courses/"]
queries = 4           # max per request, compared with the report's queries.max
duplicates = 0        # exact duplicate statements per request
db_ms_p95 = 25.0      # optional time limits, in milliseconds
latency_ms_p95 = 120.0
```

Reading is strict: an unknown key, a wrong type, a malformed endpoint key or TOML syntax error is
a `ConfigurationError` naming the file, the line and the fix; with a URLconf at hand (see
`perftoolkit.urlconf`), so is a table whose route no longer exists. Rewrites go through tomlkit so
comments and order survive. Django is only consulted for `settings.BASE_DIR` and the
`PERFTOOLKIT["BUDGETS"]` setting, and only when settings are configured.
"""

from __future__ import annotations

from perftoolkit.budgets.discovery import BUDGET_FILE, display_path, find_budget_file, search_dirs
from perftoolkit.budgets.reader import load_budgets, parse_budgets
from perftoolkit.budgets.writer import render_budgets, write_budgets

__all__ = [
    "BUDGET_FILE",
    "display_path",
    "find_budget_file",
    "load_budgets",
    "parse_budgets",
    "render_budgets",
    "search_dirs",
    "write_budgets",
]
