"""The teaching layer: the interactive app and its pictures of one partnership, review by
review."""
