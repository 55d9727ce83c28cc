"""The pure side of `perf_fix`: what a finding's fix asks of a queryset (`calls`), how it merges
into the calls a queryset already makes (`merge`), and when two responses are the same
(`responses`). Plain text and data in, plain text and data out: no Django, no libcst."""
