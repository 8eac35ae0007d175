"""The use cases, written against the ports in :mod:`domain.ports`."""
