"""What a document may cost, estimated from its text before anything runs.

**Query cost.** Each field selection costs 1, plus its size times the cost of its
own selections: lists multiply along the path, and every alias counts (aliases
are separate selections). A field's size is its ``first`` or ``depth`` argument
(a literal; from a variable, the most that field accepts; left out, its default);
a list field without such an argument counts ``UNSIZED_LIST`` items, or 1 inside
a field that was sized already (a connection's ``edges``/``nodes``, a book's
``bids``/``asks``). Over ``max_cost`` is QUERY_TOO_COMPLEX. Fragments are costed
once each (a fragment's cost does not depend on where it is spread).

**Selection sets.** The overlapping-fields validation rule compares every pair of
fields with one response name in a selection set, recursively, so ~500 copies of
``creator { id }`` took seconds. Before validation runs, a document is refused
when a selection set (fragments expanded) holds more than ``MAX_FIELDS_PER_SET``
fields or one response name more than ``MAX_REPEATS`` times.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from domain.errors import QueryTooComplex
from domain.queries import MAX_PAGE_SIZE
from schema.types.markets import MAX_HISTORY_POINTS

MAX_COST = 10_000
UNSIZED_LIST = 10
SIZE_ARGUMENTS = ("first", "depth")
LARGEST_SIZE = {"priceHistory": MAX_HISTORY_POINTS}
"""The most a size argument given by a variable may be (else MAX_PAGE_SIZE)."""
MAX_FIELDS_PER_SET = 100
MAX_REPEATS = 3
MAX_NESTING = 64
"""Deeper than this counts as over the cost limit (the depth limit refuses it anyway)."""


def refusal(message: str) -> GraphQLError:
    return GraphQLError(message, original_error=QueryTooComplex(message))


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def selection_set_error(document: DocumentNode) -> GraphQLError | None:
    """A refusal if some selection set is too wide or repeats a name too often."""
    fragments = _fragments(document)
    names: dict[str, Counter[str]] = {}

    def counted(selection_set: SelectionSetNode, visiting: frozenset[str]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                counts[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                counts.update(counted(selection.selection_set, visiting))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in visiting:
                    if name not in names:
                        names[name] = counted(fragments[name].selection_set, visiting | {name})
                    counts.update(names[name])
        return counts

    for selection_set in _selection_sets(document):
        counts = counted(selection_set, frozenset())
        if counts.total() > MAX_FIELDS_PER_SET:
            return refusal(f"a selection set may hold at most {MAX_FIELDS_PER_SET} fields")
        name, repeats = counts.most_common(1)[0] if counts else ("", 0)
        if repeats > MAX_REPEATS:
            return refusal(f"{name!r} is selected {repeats} times in one selection set")
    return None


def _selection_sets(document: DocumentNode) -> Iterator[SelectionSetNode]:
    pending = [d.selection_set for d in document.definitions if hasattr(d, "selection_set")]
    while pending:
        selection_set = pending.pop()
        yield selection_set
        for selection in selection_set.selections:
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                pending.append(inner)


def cost_error(schema: GraphQLSchema, document: DocumentNode, max_cost: int) -> GraphQLError | None:
    """A refusal if an operation costs more than ``max_cost``. The document need not be
    valid (this runs before validation): unknown fields and types cost 1."""
    estimate = QueryCost(schema, document, max_cost)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            if estimate.of(definition.selection_set, root, sized=False) > max_cost:
                return refusal(
                    f"the query costs more than {max_cost} (each field 1, times the sizes of "
                    "the lists it is in): ask for fewer items or fewer nested lists"
                )
    return None


class QueryCost:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, limit: int) -> None:
        self.schema = schema
        self.fragments = _fragments(document)
        self.limit = limit
        self.memo: dict[tuple[str, bool], int] = {}

    def of(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        *,
        sized: bool,
        level: int = 0,
    ) -> int:
        if level > MAX_NESTING:
            return self.limit + 1
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, sized, level)
            elif isinstance(selection, InlineFragmentNode):
                inner = self._type(selection.type_condition, parent)
                total += self.of(selection.selection_set, inner, sized=sized, level=level + 1)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, sized, level)
            if total > self.limit:
                break
        return total

    def spread(self, name: str, sized: bool, level: int) -> int:
        key = (name, sized)
        if key not in self.memo:
            fragment = self.fragments.get(name)
            self.memo[key] = 0  # a cycle counts nothing (validation refuses it)
            if fragment is not None:
                parent = self._type(fragment.type_condition, None)
                cost = self.of(fragment.selection_set, parent, sized=sized, level=level + 1)
                self.memo[key] = cost
        return self.memo[key]

    def field(
        self, node: FieldNode, parent: GraphQLNamedType | None, parent_sized: bool, level: int
    ) -> int:
        fields = parent.fields if isinstance(parent, GraphQLObjectType) else {}
        definition = fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return 1
        size = self._size(node, definition)
        sized = size is not None
        if size is None:
            is_list = isinstance(get_nullable_type(definition.type), GraphQLList)
            size = (1 if parent_sized else UNSIZED_LIST) if is_list else 1
        named = get_named_type(definition.type)
        return 1 + size * self.of(node.selection_set, named, sized=sized, level=level + 1)

    def _size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        for name in SIZE_ARGUMENTS:
            if name not in definition.args:
                continue
            given = next((a.value for a in node.arguments or () if a.name.value == name), None)
            if isinstance(given, IntValueNode):
                return max(int(given.value), 0)
            if isinstance(given, VariableNode):
                return LARGEST_SIZE.get(node.name.value, MAX_PAGE_SIZE)
            default = definition.args[name].default_value
            return default if isinstance(default, int) else MAX_PAGE_SIZE
        return None

    def _type(
        self, condition: object, fallback: GraphQLNamedType | None
    ) -> GraphQLNamedType | None:
        name = getattr(getattr(condition, "name", None), "value", None)
        found = self.schema.get_type(name) if isinstance(name, str) else None
        return found or fallback
