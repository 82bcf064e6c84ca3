"""Evaluation and leaderboards (docs/architecture.md, "leaderboards").

- ``evaluate`` runs agents x envs x seeds (local processes or Ray), resumable, into a
  ``ResultStore`` (SQLite, WAL, retried writes);
- ``tournament`` plays round-robin games with colours alternated;
- ``summarize`` / ``print_summary`` / ``write_html`` report success with Wilson
  intervals, mean return with bootstrap intervals, OpenSkill and Bradley-Terry ratings,
  and say when intervals overlap.
"""

from .report import Summary, print_summary, summarize
from .runner import EnvSpec, EvalReport, evaluate
from .spec import AgentSpec, parse_agents
from .store import DEFAULT_DB, ResultStore
from .tournament import TournamentReport, tournament


def write_html(summary, path, **kwargs):
    from .html import write_html as _write

    return _write(summary, path, **kwargs)


__all__ = ["AgentSpec", "DEFAULT_DB", "EnvSpec", "EvalReport", "ResultStore", "Summary", "TournamentReport",
           "evaluate", "parse_agents", "print_summary", "summarize", "tournament", "write_html"]
