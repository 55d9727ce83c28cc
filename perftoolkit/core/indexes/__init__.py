"""Index rules over plain data: what a statement could use (`sqlshape.py`), candidate indexes
(`candidates.py`), schema facts and naming (`advice.py`), review of existing indexes
(`review.py`), EXPLAIN plans and their judgement (`plans.py`), sample parameters (`samples.py`)."""
