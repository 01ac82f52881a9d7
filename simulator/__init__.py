"""dealersim: a role-play simulator for a dealer-management course."""

__version__ = "0.1.0"
