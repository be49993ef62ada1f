"""Pure analysis functions: DataFrames in, DataFrames or numbers out; no I/O."""
