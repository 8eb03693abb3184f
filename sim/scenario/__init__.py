"""The scenario layer: the file format (schema), distributions, constants, safe loading, fields by
path."""
