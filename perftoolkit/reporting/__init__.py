"""Views of a run: report.json (the record), HTML, terminal, Markdown, JUnit XML."""
