"""Friendly names for runs created without one: ``<adjective>-<noun>-<number>``.

MLflow names unnamed runs the same way (at most 20 characters, a number from 0 to 1000), and
users rely on the shape, so trackd keeps it; the words are trackd's own.
"""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring", "deep",
    "eager", "early", "fancy", "fast", "fierce", "gentle", "glad", "golden", "grand", "happy",
    "hidden", "humble", "jolly", "keen", "kind", "lively", "lucky", "lunar", "merry", "mighty",
    "misty", "noble", "polar", "proud", "quick", "quiet", "rapid", "rare", "royal", "rustic",
    "shiny", "silent", "silver", "smart", "solar", "steady", "stellar", "sunny", "swift",
    "tidy", "tiny", "vast", "vivid", "warm", "wild", "wise", "witty", "zesty",
)
_NOUNS = (
    "badger", "bear", "bee", "bison", "crane", "crow", "deer", "dove", "eagle", "elk", "falcon",
    "ferret", "finch", "fox", "gecko", "goat", "hare", "hawk", "heron", "ibis", "koala", "lark",
    "lemur", "lion", "lynx", "mole", "moose", "newt", "orca", "otter", "owl", "panda", "puffin",
    "quail", "raven", "robin", "seal", "shark", "sloth", "snail", "swan", "tapir", "tiger",
    "toad", "trout", "viper", "whale", "wolf", "wren", "yak", "zebra",
)
MAX_LENGTH = 20


def random_run_name(rng: random.Random | None = None) -> str:
    pick = rng or random
    for _ in range(10):
        name = f"{pick.choice(_ADJECTIVES)}-{pick.choice(_NOUNS)}-{pick.randint(0, 1000)}"
        if len(name) <= MAX_LENGTH:
            return name
    return name[:MAX_LENGTH]
