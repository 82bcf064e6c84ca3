"""Board games: Connect Four, Hex, Chess, Chess960 (Gymnasium, PettingZoo AEC, vectorized)."""


def aec(name: str, **kwargs):
    """The PettingZoo AEC version of a game: "connect_four", "hex", "chess", "chess960".

    (The class lives in ``pettingzoo_aec``: a submodule named ``aec`` would replace this
    function with the module on its first import.)
    """
    from .pettingzoo_aec import GameAEC

    return GameAEC(name, **kwargs)


__all__ = ["aec"]
