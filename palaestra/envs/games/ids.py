"""Board-game env ids (imports nothing heavy)."""

from palaestra.registration import EnvInfo

ENVS = [
    EnvInfo("palaestra/ConnectFour-v0", "palaestra.envs.games.env:ConnectFourEnv",
            "Connect Four against an opponent (OpenSpiel rules); text: a column 1-7.", "games",
            order_enforce=False, env_checker=False, vector_entry="palaestra.envs.games.vector:ConnectFourVectorEnv"),
    EnvInfo("palaestra/Hex-v0", "palaestra.envs.games.env:HexEnv",
            "Hex, board_size 5..19 (default 11), optional swap rule; text: a cell like c5.", "games",
            order_enforce=False, env_checker=False, vector_entry="palaestra.envs.games.vector:HexVectorEnv"),
    EnvInfo("palaestra/Chess-v0", "palaestra.envs.games.env:ChessEnv",
            "Chess against random, MCTS or Stockfish; text: UCI or SAN.", "games", system=("stockfish",),
            order_enforce=False, env_checker=False),
    EnvInfo("palaestra/Chess960-v0", "palaestra.envs.games.env:Chess960Env",
            "Chess960: the start position drawn from the seed (all 960 reachable, Scharnagl numbering).", "games",
            system=("stockfish",), order_enforce=False, env_checker=False),
]

# agents that search with OpenSpiel's C++ code (games only)
AGENTS = {
    "mcts-cpp": "palaestra.agents.openspiel_mcts:OpenSpielMCTSAgent",
}
