"""Closed vocabularies of the domain, shared by tables, schemas and services."""

from enum import StrEnum


class Qualifier(StrEnum):
    """How the source qualifies a number ("more than 8.9 tons" → more_than); lower bounds: more_than,
    at_least; upper bounds: almost, up_to, less_than (CONTRACT "Qualifiers")."""

    exact = "exact"
    more_than = "more_than"
    at_least = "at_least"
    about = "about"
    almost = "almost"
    up_to = "up_to"
    less_than = "less_than"


class Scope(StrEnum):
    """What a figure covers: one phase, one operation over years, or the organisation as a whole."""

    phase = "phase"
    cumulative = "cumulative"
    programme = "programme"


class CandidateStatus(StrEnum):
    """Review state of an extracted figure."""

    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class KeyScope(StrEnum):
    """What an API key may write: curators add and correct, admins also retract."""

    curator = "curator"
    admin = "admin"
