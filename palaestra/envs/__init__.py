"""The five domains; each lists its env ids in ids.py (see palaestra.registration)."""
