"""Agents: baselines, LLM policies and search (DESIGN.md section 3)."""

from .base import Agent, RandomAgent, make, registry, text_view

__all__ = ["Agent", "RandomAgent", "make", "registry", "text_view"]
