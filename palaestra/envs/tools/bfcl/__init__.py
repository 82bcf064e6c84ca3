"""BFCL v4 as episodes: data loading, the AST checker, the executable API classes."""
