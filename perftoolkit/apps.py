from __future__ import annotations

from django.apps import AppConfig
from django.core.checks import register


class PerfToolkitConfig(AppConfig):
    name = "perftoolkit"
    verbose_name = "perftoolkit"

    def ready(self) -> None:
        from perftoolkit import checks
        from perftoolkit.budgets.querycount import check_querycount_budgets

        register(checks.check_settings)
        register(checks.check_setting_name)
        register(checks.check_middleware)
        register(checks.check_production_mode)
        register(checks.check_capture)
        register(checks.check_interop)
        register(check_querycount_budgets)
