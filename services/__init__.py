"""Use cases of TechScreen, independent of Flask's request: each takes primitives and
keyword-only dependencies (``*, claude``), owns its transaction, and raises the domain
errors of services/errors.py."""
