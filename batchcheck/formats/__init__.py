"""Output formats. Formatters only format what commands computed, to the stream they are given."""
