"""perftoolkit beside the tools a team already runs: a django-debug-toolbar panel
(`debug_toolbar.PerfPanel`) and the import of django-silk's stored requests (`silk`).

Entry points, like `management/` and `cli/`: they may import every layer below.
"""
