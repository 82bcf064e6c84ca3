"""A restaurant-booking site (Agent Q's OpenTable setting), seeded, served on 127.0.0.1."""
