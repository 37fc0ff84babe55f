"""The neutral core: knowledge every layer shares and that imports nothing else of ours.

The document model, dates, the vocabulary (info-box labels, title rules), the number reading of
a cell, typed record definitions and Arrow helpers.
`extract`, `transform` and `flows` all import from here; this package imports none of them
(enforced by the import-linter contract in pyproject.toml).
"""
