"""A package that runs a query for its caller (IGNORE_MODULES tests)."""
