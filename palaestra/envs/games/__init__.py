"""Board games: Connect Four, Hex, Chess, Chess960 (Gymnasium and PettingZoo AEC)."""


def aec(name: str, **kwargs):
    """The PettingZoo AEC version of a game: "connect_four", "hex", "chess", "chess960"."""
    from .aec import GameAEC

    return GameAEC(name, **kwargs)


__all__ = ["aec"]
