"""What a request may cost, checked once per document text and cached.

:func:`parse_and_validate` is the one extension that parses (under a token
limit) and validates (with the limit rules) through LRU caches shared by every
request. Strawberry builds each extension anew per request and asks each one
for each of its four hooks; one extension here instead of its four
(``MaxTokensLimiter``, ``ParserCache``, ``AddValidationRules``,
``ValidationCache``) does the same with a fraction of that bookkeeping.

The rules also bound fragment fan-out, checked before the depth and alias limits.
Strawberry's depth and alias validators expand every fragment spread anew, so a
document of a few hundred tokens (``fragment F0 on Market { ...F1 ...F1 }``,
``F1`` likewise, thirty levels) costs them 2^30 steps and holds a worker's
event loop for hours. :func:`expanded_selections` counts the field selections
of a document with each fragment's size computed once, and
:func:`bounded_rules` runs those validators only on documents under the bound;
over it the document is refused with ``QUERY_TOO_COMPLEX``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from schema.cost import MAX_COST, cost_error, refusal, selection_set_error
from schema.strings import forbidden_variables_error

MAX_SELECTIONS = 5_000
"""Field selections a document may expand to (fragments expanded)."""
MAX_NESTING = 64
"""Deeper than this counts as over the bound (the depth limit refuses it anyway)."""


def expanded_selections(document: DocumentNode, limit: int = MAX_SELECTIONS) -> int:
    """Field selections once every fragment spread is expanded; stops counting past
    ``limit``. Cycles and unknown fragments count nothing (other rules report them)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes: dict[str, int] = {}

    def size(selection_set: SelectionSetNode, visiting: frozenset[str], level: int) -> int:
        if level > MAX_NESTING:
            return limit + 1
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = selection.selection_set
                total += 1 + (size(inner, visiting, level + 1) if inner else 0)
            elif isinstance(selection, InlineFragmentNode):
                total += size(selection.selection_set, visiting, level)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                if name not in sizes:
                    sizes[name] = size(fragment.selection_set, visiting | {name}, level)
                total += sizes[name]
            if total > limit:
                return total
        return total

    total = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            total += size(definition.selection_set, frozenset(), 0)
            if total > limit:
                break
    return total


def bounded_rules(
    rules: Sequence[type[ASTValidationRule]], limit: int = MAX_SELECTIONS
) -> type[ASTValidationRule]:
    """One rule: refuse a document that expands past ``limit``, else run ``rules``
    (validators that do all their work when constructed, as Strawberry's limiters do)."""

    class BoundedSelections(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            if expanded_selections(context.document, limit) > limit:
                message = (
                    f"Document contains more than {limit} field selections "
                    "once its fragments are expanded"
                )
                context.report_error(GraphQLError(message))
                return
            for rule in rules:
                rule(context)

    return BoundedSelections


def parse_and_validate(
    rules: Sequence[type[ASTValidationRule]],
    *,
    max_tokens: int,
    max_cost: int = MAX_COST,
    cache_size: int = 512,
) -> type[SchemaExtension]:
    """An extension: cached parsing (at most ``max_tokens``), cached validation with
    ``rules`` added (and whatever rules other extensions added, e.g. no introspection).

    A syntax error fails parsing; a document over the token limit, a rule's error, and
    the checks of ``schema.cost`` fail validation (so that every transport, WebSocket
    included, answers them with an error message). Before the rules
    run, a selection set too wide to validate cheaply and a document over ``max_cost``
    are refused (``schema.cost``), with QUERY_TOO_COMPLEX.
    """
    extra = tuple(rules)

    @functools.lru_cache(maxsize=cache_size)
    def cached_parse(query: str) -> DocumentNode:
        return parse(query, max_tokens=max_tokens)

    # Keyed by the query's text, not its document: hashing a document walks its whole
    # syntax tree, while a str caches its hash.
    @functools.lru_cache(maxsize=cache_size)
    def cached_validate(
        schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        document = cached_parse(query)
        # Before the rules: the overlapping-fields rule grows with the square of the
        # repeats in a selection set, compounded at each level of nesting.
        refused = selection_set_error(document) or cost_error(schema, document, max_cost)
        return [refused] if refused else validate_document(schema, document, rules)

    class ParseAndValidate(SchemaExtension):
        refused: GraphQLError | None = None

        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            assert context.query is not None
            try:
                context.graphql_document = cached_parse(context.query)
            except GraphQLSyntaxError as error:
                # Not raised from here: an exception out of this hook escapes Strawberry's
                # error handling (over a WebSocket the operation ends in a bare complete).
                if TOKEN_LIMIT in error.message:
                    self.refused = refusal(error.message.removeprefix("Syntax Error: "))
                    context.graphql_document = _stand_in(context.allowed_operations)
                else:  # Strawberry parses it again (as cheaply) and reports the error
                    context.parse_options = {**context.parse_options, "max_tokens": max_tokens}
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            assert context.query is not None
            if self.refused is not None:
                context.pre_execution_errors = [self.refused]
                yield
                return
            # A copy: Strawberry's error handling may change the list it is given.
            errors = list(
                cached_validate(
                    context.schema._schema, context.query, (*context.validation_rules, *extra)
                )
            )
            refused = None if errors else forbidden_variables_error(context.variables)
            context.pre_execution_errors = [refused] if refused else errors
            yield

    return ParseAndValidate


TOKEN_LIMIT = "Document contains more than"
_STAND_INS = {
    kind: parse(f"{kind.value} {{ __typename }}")
    for kind in (OperationType.QUERY, OperationType.SUBSCRIPTION)
}


def _stand_in(allowed: Iterable[OperationType]) -> DocumentNode:
    """A document of an operation type the transport allows, never run: it stands in for
    one refused while parsing, so Strawberry reaches validation and reports the refusal."""
    kind = OperationType.QUERY if OperationType.QUERY in allowed else OperationType.SUBSCRIPTION
    return _STAND_INS[kind]
