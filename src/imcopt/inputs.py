"""Reading what a user gives, safely: YAML files and values echoed back in error messages.

- `load_yaml(text, where)`: YAML with a duplicated key refused (naming the key and its line:
  the last one would silently win), aliases bounded (a "billion laughs" document expands to
  at most `MAX_YAML_NODES` nodes, a recursive one is refused), and `1e-9` read as the float
  it looks like (YAML 1.1 wants `1.0e-9`).
- `read_yaml(path, error, what)`: the same from a file of at most `MAX_YAML_BYTES`, every
  problem raised as `error` (one line naming the file).
- `brief(value)`: a value's repr cut to a few dozen characters, for error messages (an input
  echoed whole can be megabytes long).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

MAX_YAML_BYTES = 20 * 1024 * 1024  # a config, technology or layer file; far above any real one
MAX_YAML_NODES = 1_000_000  # nodes after expanding aliases
_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
EMPTY = object()  # `load_yaml`'s result for a document with no content (empty, only comments)


def brief(value: object, limit: int = 80) -> str:
    """repr(value), at most about `limit` characters: a longer one keeps its start and its end
    (where a path has its file name) and says how long it was."""
    try:
        text = repr(value) if not isinstance(value, (list, dict, tuple, set)) else _shallow(value)
    except Exception:  # a repr that fails is still something to show
        text = f"<{type(value).__name__}>"
    if len(text) <= limit:
        return text
    head = max(8, limit // 3)
    return f"{text[:head]}...{text[-(limit - head - 3):]} ({len(text)} chars)"


def clip(text: str, limit: int = 300) -> str:
    """`text` on one line, cut to `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shallow(value: object) -> str:
    """A container's repr without walking a (possibly huge, aliased) nesting: its first few
    items, shallow."""
    if isinstance(value, dict):
        items = list(value.items())[:4]
        inner = ", ".join(f"{k!r}: {_leaf(v)}" for k, v in items)
        more = ", ..." if len(value) > 4 else ""
        return "{" + inner + more + "}"
    seq = list(value)[:4]  # type: ignore[call-overload]
    more = ", ..." if len(value) > 4 else ""  # type: ignore[arg-type]
    return "[" + ", ".join(_leaf(v) for v in seq) + more + "]"


def _leaf(v: object) -> str:
    if isinstance(v, (list, dict, tuple, set)):
        return f"<{type(v).__name__} of {len(v)}>"
    text = repr(v)
    return text if len(text) <= 20 else text[:17] + "..."


class InputError(ValueError):
    """A YAML document cannot be used; one line naming where."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and reads `1e-9` as a float."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # SafeLoader reports an unhashable key itself
            if key in seen:
                raise InputError(f"line {key_node.start_mark.line + 1}: key {brief(key)} is "
                                 f"given twice (first on line {seen[key]}); give it once")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789"))


def _expanded_size(node: yaml.Node) -> int:
    """Nodes the document holds once every alias is expanded (InputError past the bound, or
    for a recursive alias)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise InputError(f"line {n.start_mark.line + 1}: a recursive alias (an anchor "
                             "used inside itself)")
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for child in n.value:
                total += size(child)
                if total > MAX_YAML_NODES:
                    break
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
                if total > MAX_YAML_NODES:
                    break
        active.discard(key)
        total = min(total, MAX_YAML_NODES + 1)
        sizes[key] = total
        return total

    return size(node)


def load_yaml(text: str, where: str = "<yaml>") -> Any:
    """The document in `text` (`EMPTY` when it holds nothing); InputError (one line naming
    `where`) for invalid YAML, a duplicated key, an alias bomb or a recursive alias."""
    loader = None
    try:
        loader = _Loader(text)  # its reader refuses control characters here already
        node = loader.get_single_node()
        if node is None:
            return EMPTY
        if _expanded_size(node) > MAX_YAML_NODES:
            raise InputError(f"{where}: more than {MAX_YAML_NODES:,} values once its aliases "
                             "(*name) are expanded; refused")
        return loader.construct_document(node)
    except InputError as exc:
        raise InputError(f"{where}: {exc}" if not str(exc).startswith(where) else str(exc)
                         ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or type(
            exc).__name__
        raise InputError(f"{where}: not valid YAML{at} ({clip(problem, 80)})") from None
    except RecursionError:
        raise InputError(f"{where}: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_text(path: str | Path, error: type[Exception] = InputError,
              limit: int = MAX_YAML_BYTES) -> str:
    """A UTF-8 text file of at most `limit` bytes, or `error` naming the file."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        raise error(f"{p}: does not exist or cannot be read") from None
    if size > limit:
        raise error(f"{p}: {size:,} bytes; more than the {limit:,} a text input may have")
    try:
        return p.read_text()
    except UnicodeDecodeError:
        raise error(f"{p}: not a text (UTF-8) file") from None
    except OSError as exc:
        raise error(f"{p}: cannot be read ({exc.strerror or type(exc).__name__})") from None


def read_yaml(path: str | Path, error: type[Exception] = InputError,
              text: str | None = None) -> Any:
    """The YAML document of a file (`EMPTY` when it holds nothing), every problem as `error`."""
    if text is None:
        text = read_text(path, error)
    try:
        return load_yaml(text, str(path))
    except InputError as exc:
        raise error(str(exc)) from None
