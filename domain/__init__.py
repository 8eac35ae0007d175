"""Bellwether's domain: pure Python, standard library only.

Money is integer cents, shares are whole numbers, order-book prices are integer
cents per share in 1..99. Engines (order book, LMSR, ledger) are synchronous and
deterministic; services are the async use cases written against ports.
"""
