"""The YAML source: a strict safe loader (no duplicate keys, no tags, a bounded expansion) and the line of
the file where a field is written, for error messages."""
from __future__ import annotations

import yaml

from fsp_risk.config.limits import MAX_YAML_NODES
from fsp_risk.errors import excerpt


class _StrictLoader(yaml.SafeLoader):
    """The safe loader (plain data only, nothing executed) that also refuses a key given twice in one
    mapping: PyYAML keeps the last silently, so a hand-edited config could lose a value unseen."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in first:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"the key {excerpt(key)} is given twice in one mapping (first at line "
                            f"{first[key] + 1}); expected each key once", key_node.start_mark)
                    first[key] = key_node.start_mark.line
                except TypeError:  # an unhashable key: the base class says so
                    break
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node):
        # Python refuses to read an integer of over 4,300 digits with a bare ValueError.
        try:
            return super().construct_yaml_int(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read the number ({exc}); expected a number "
                                                    "of at most a few digits", node.start_mark) from None

    def construct_yaml_timestamp(self, node):
        # PyYAML reads 2024-13-01 as a date and then fails with a bare ValueError: say where, and why.
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{excerpt(node.value)} is not a real date ({exc}); expected a date like 2024-04-10",
                node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def _expanded_size(root) -> int:
    """How many nodes a composed YAML document has with every alias followed, counted without expanding
    it (each node's size once); a recursive alias is refused."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            kids = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
            sizes[key] = min(1 + sum(sizes[id(k)] for k in kids), 10**12)
            open_.discard(key)
            continue
        if key in sizes:
            continue
        if key in open_:
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to a node that contains it; "
                                                    "expected plain data without recursion", node.start_mark)
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            open_.add(key)
            stack.append((node, True))
            kids = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
            stack.extend((k, False) for k in kids if id(k) not in sizes)
        else:
            sizes[key] = 1
    return sizes[id(root)]


def _load_yaml(text: str):
    """The config's data and its composed node tree (for line numbers), refused when its aliases expand
    to more than :data:`MAX_YAML_NODES` nodes, before anything is built from them."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        size = _expanded_size(node)
        if size > MAX_YAML_NODES:
            raise yaml.constructor.ConstructorError(
                None, None, f"the document expands to {size:,} values with its aliases followed, over the limit of "
                f"{MAX_YAML_NODES:,}; expected a config without deeply nested aliases", node.start_mark)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def _line_of(node, path: str) -> int | None:
    """The line of the file where the field ``path`` (as in error messages: ``a.b[3].c``, ``risks[R1]``
    for the list item with that id, keys that hold dots or slashes matched whole) is written; for a
    field that is missing, the line of the deepest field of the path that is there."""
    line, rest = None, path
    while node is not None and rest:
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0 or not isinstance(node, yaml.SequenceNode):
                break
            token, rest = rest[1:end], rest[end + 1:].lstrip(".")
            items = node.value
            if token.isdigit():
                node = items[int(token)] if int(token) < len(items) else None
            else:
                node = next((item for item in items if isinstance(item, yaml.MappingNode)
                             and any(k.value == "id" and getattr(v, "value", None) == token for k, v in item.value)), None)
            if node is not None:
                line = node.start_mark.line + 1
            continue
        if not isinstance(node, yaml.MappingNode):
            break
        matches = [(str(k.value), k, v) for k, v in node.value
                   if rest == str(k.value) or rest.startswith(f"{k.value}.") or rest.startswith(f"{k.value}[")]
        if not matches:
            break
        key, key_node, node = max(matches, key=lambda m: len(m[0]))  # the longest key: 'a.b' before 'a'
        line = key_node.start_mark.line + 1
        rest = rest[len(key):].lstrip(".")
    return line


