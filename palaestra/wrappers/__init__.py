"""Wrappers shared by every domain."""

from .text import TextInterface

__all__ = ["TextInterface"]


def __getattr__(name):  # lazy: recordings pull in optional deps
    if name == "RecordEpisodes":
        from .record import RecordEpisodes

        return RecordEpisodes
    raise AttributeError(name)
