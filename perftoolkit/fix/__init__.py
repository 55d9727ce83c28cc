"""`perf_fix`: a report's N+1 fixes written into the project's source and kept only when a replay
of the recorded requests shows fewer queries and the same responses.

`chains` reads and rewrites a queryset chain with libcst (formatting and comments kept),
`locate` finds the chain a finding's origin line builds, `imports` adds what a fix names,
`edit` puts the three together for one finding; `source` reads a file with its line endings and
byte order mark kept; `replay` runs recorded requests in a child process, `service` verifies
each edit and writes the patch, the files and report.json.
"""
