"""One reader per official file format. Each takes a path, finds its content by label, validates it
against a schema and returns a tidy DataFrame; any surprise is a one-line :class:`ReaderError`."""
