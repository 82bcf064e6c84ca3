"""Tool use: a sandboxed tool world with graded tasks, and BFCL v4 tasks as episodes.

Import the envs from their modules (``palaestra.envs.tools.env``, ``.bfcl.env``);
this package imports nothing heavy.
"""
