"""Index advice: `adviser.py` proposes indexes from a run's statements and verifies each with the
database's planner (`explain/`, per vendor), `introspection.py` reads the models and the indexes
the database has, `migration.py` writes verified advice as a Django migration. The rules
themselves are pure, in `perftoolkit.core.indexes`."""
