"""Declarative search spaces: YAML files of distributions, validated when read, sampled per trial."""

from spaces._catalog import SHIPPED_SPACES_DIR, list_spaces, load_space, shipped_space_names
from spaces._distributions import Choice, Condition, Fixed, FloatRange, IntRange, Variant
from spaces._errors import SpaceError
from spaces._space import Entry, Group, Parameter, SearchSpace
from spaces._suggester import RandomSuggester, Suggester

__all__ = [
    "SHIPPED_SPACES_DIR",
    "Choice",
    "Condition",
    "Entry",
    "Fixed",
    "FloatRange",
    "Group",
    "IntRange",
    "Parameter",
    "RandomSuggester",
    "SearchSpace",
    "SpaceError",
    "Suggester",
    "Variant",
    "list_spaces",
    "load_space",
    "shipped_space_names",
]
