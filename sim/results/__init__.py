"""The results layer: results folders (atomic, locked, reproducible), user text, figures and
reports."""
