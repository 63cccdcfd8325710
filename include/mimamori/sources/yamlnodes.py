"""YAML read as a tree of strings with line numbers, so every mapping error can name its line.

A mapping is read with PyYAML's composer only: no value is converted by YAML's own rules, which
in YAML 1.1 turn ``Y``/``N``/``yes``/``no``/``on``/``off`` into booleans and ``01`` into the integer
1 — fatal for code maps (``{Y: 有, N: 無}``, ``{"01": 世帯主}``). Every scalar stays the text that
was written, with its line and whether it was quoted; :mod:`mimamori.sources.mapping` decides what
it means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml


@dataclass(frozen=True)
class Scalar:
    value: str
    line: int
    quoted: bool = False

    @property
    def is_null(self) -> bool:
        return not self.quoted and self.value in ("", "~", "null", "Null", "NULL")


@dataclass
class Map:
    line: int
    items: dict[str, tuple[Scalar, Node]] = field(default_factory=dict)

    def get(self, key: str) -> Node | None:
        item = self.items.get(key)
        return item[1] if item else None

    def key_line(self, key: str) -> int:
        return self.items[key][0].line


@dataclass
class Seq:
    line: int
    items: list[Node] = field(default_factory=list)


Node = Scalar | Map | Seq


class YamlError(ValueError):
    """The text is not YAML (or has a duplicated key); ``line`` is 1-based."""

    def __init__(self, line: int, message_ja: str, message_en: str):
        super().__init__(message_en)
        self.line = line
        self.message_ja = message_ja
        self.message_en = message_en


def _convert(node: yaml.Node) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return Scalar(str(node.value), line, quoted=node.style in ("'", '"'))
    if isinstance(node, yaml.SequenceNode):
        return Seq(line, [_convert(n) for n in node.value])
    if isinstance(node, yaml.MappingNode):
        out = Map(line)
        for key_node, value_node in node.value:
            key = _convert(key_node)
            if not isinstance(key, Scalar):
                raise YamlError(key.line, "キーには文字列を書いてください", "a key must be a plain string")
            if key.value in out.items:
                first = out.items[key.value][0].line
                raise YamlError(
                    key.line,
                    f"キー「{key.value}」が{first}行目と重複しています",
                    f"key {key.value!r} repeats the one on line {first}",
                )
            out.items[key.value] = (key, _convert(value_node))
        return out
    raise YamlError(line, "解釈できないYAMLの要素です", "unsupported YAML node")


def parse(text: str) -> Node | None:
    """The document's tree (None for an empty document); YamlError naming the line otherwise."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "syntax error"
        raise YamlError(line, f"YAMLとして読めません（{problem}）", f"not valid YAML ({problem})") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, "YAMLとして読めません", f"not valid YAML ({exc.__class__.__name__})") from None
    return None if root is None else _convert(root)
