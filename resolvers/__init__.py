"""Thin resolvers: input -> one service or read-model call -> schema type."""
