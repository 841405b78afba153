"""What strings an expression of the integration's code stands for, read with `ast`."""

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

EXCEPTION_NAMES = {
    "ConfigEntryAuthFailed",
    "ConfigEntryError",
    "ConfigEntryNotReady",
    "HomeAssistantError",
    "ServiceValidationError",
}


def parse_package(package: Path) -> dict[Path, ast.Module]:
    """Parse every Python file under `package`, keyed by its path relative to it."""
    return {
        path.relative_to(package): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(package.rglob("*.py"))
    }


def assigned(body: list[ast.stmt]) -> Iterator[tuple[str, ast.expr]]:
    """(name, value) of the simple assignments of a statement list."""
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield target.id, stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
        ):
            yield stmt.target.id, stmt.value


def _returns(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The return statements of a function, not of functions nested in it."""
    found: list[ast.Return] = []
    todo: list[ast.AST] = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return found


def _key_params(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
) -> list[tuple[int, str, str]]:
    """(position, name, section) of parameters a function uses as a translation_key.

    Position counts the arguments a caller passes (without self/cls); section is
    `exceptions` or `issues`.
    """
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    if params and params[0] in {"self", "cls"}:
        params = params[1:]
    params += [a.arg for a in function.args.kwonlyargs]
    found = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        key = keyword(node, "translation_key")
        if not isinstance(key, ast.Name) or key.id not in params:
            continue
        if call_name(node) == "async_create_issue":
            section = "issues"
        elif keyword(node, "translation_domain") is not None:
            section = "exceptions"
        else:
            continue
        found.append((params.index(key.id), key.id, section))
    return found


def _unique[T](found: Mapping[str, list[T]]) -> dict[str, T]:
    """Keep the names defined once, or several times identically."""
    return {
        name: values[0]
        for name, values in found.items()
        if all(value == values[0] for value in values)
    }


class Resolver:
    """What strings an expression of the integration's code can stand for, statically.

    Knows module- and class-level string constants (`NAME = "x"`, enum members), lists
    of them (`METHODS = [Method.A, "b"]`), dicts of them (`list(STATES.values())`),
    "key functions" whose every return is such a string (`def _error_key(err): ...
    return "invalid_auth"`) and "key parameters": a function parameter passed on as an
    exception's or an issue's translation_key (`def translated_error(key): return
    HomeAssistantError(translation_domain=DOMAIN, translation_key=key)`). Names defined
    twice differently are left out: they cannot be resolved.
    """

    def __init__(self, modules: Mapping[Path, ast.Module]) -> None:
        strings: dict[str, list[str]] = {}
        lists: dict[str, list[ast.expr]] = {}
        dicts: dict[str, list[ast.Dict]] = {}
        members: dict[str, list[list[str]]] = {}
        bases: dict[str, list[list[str]]] = {}
        functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        for module in modules.values():
            for name, value in assigned(module.body):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    strings.setdefault(name, []).append(value.value)
                elif isinstance(value, ast.List | ast.Tuple | ast.Set):
                    lists.setdefault(name, []).append(value)
                elif isinstance(value, ast.Dict):
                    dicts.setdefault(name, []).append(value)
            for node in ast.walk(module):
                if isinstance(node, ast.ClassDef):
                    bases.setdefault(node.name, []).append(base_names(node))
                    values: list[str] = []
                    for name, value in assigned(node.body):
                        if isinstance(value, ast.Constant) and isinstance(
                            value.value, str
                        ):
                            strings.setdefault(f"{node.name}.{name}", []).append(
                                value.value
                            )
                            values.append(value.value)
                    members.setdefault(node.name, []).append(values)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    functions.append(node)
        self.strings = _unique(strings)
        self.lists = {
            name: values[0] for name, values in lists.items() if len(values) == 1
        }
        self.dicts = {
            name: nodes[0] for name, nodes in dicts.items() if len(nodes) == 1
        }
        self.members = _unique(members)
        self.bases = _unique(bases)
        self.functions: dict[str, frozenset[str]] = {}
        found: dict[str, list[frozenset[str]]] = {}
        for function in functions:
            returns = _returns(function)
            returned = [self.values(r.value) for r in returns]
            if returns and all(v is not None for v in returned):
                found.setdefault(function.name, []).append(
                    frozenset(s for v in returned if v is not None for s in v)
                )
        self.functions = _unique(found)
        params: dict[str, list[tuple[tuple[int, str, str], ...]]] = {}
        for function in functions:
            params.setdefault(function.name, []).append(tuple(_key_params(function)))
        self.key_params = {
            name: found for name, found in _unique(params).items() if found
        }

    def is_exception(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether class `name` of the integration derives from an exception."""
        for base in self.bases.get(name, []):
            if base in EXCEPTION_NAMES or base.endswith(("Error", "Exception")):
                return True
            if base not in seen and self.is_exception(base, seen | {name}):
                return True
        return False

    def one(self, node: ast.expr | None) -> str | None:
        """The single string `node` stands for, or None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.strings.get(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr == "value" and isinstance(node.value, ast.Attribute):
                return self.one(node.value)
            if isinstance(
                node.value, ast.Name
            ):  # Enum.MEMBER, Class.CONST, module.CONST
                return self.strings.get(
                    f"{node.value.id}.{node.attr}", self.strings.get(node.attr)
                )
        if (
            isinstance(node, ast.Call)
            and call_name(node) == "str"
            and len(node.args) == 1
        ):
            return self.one(node.args[0])
        return None

    def values(self, node: ast.expr | None) -> set[str] | None:
        """Every string `node` may stand for, or None when that cannot be known."""
        if (single := self.one(node)) is not None:
            return {single}
        if isinstance(node, ast.IfExp):
            body, orelse = self.values(node.body), self.values(node.orelse)
            return body | orelse if body is not None and orelse is not None else None
        if isinstance(node, ast.Call) and call_name(node) in self.functions:
            return set(self.functions[call_name(node)])
        return None

    def elements(self, node: ast.expr | None) -> list[str] | None:
        """The strings of a list expression (literal, constant, enum comprehension)."""
        if isinstance(node, ast.Name) and node.id in self.lists:
            return self.elements(self.lists[node.id])
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            found: list[str] = []
            for element in node.elts:
                found.extend(sorted(self.values(element) or ()))
            return found
        if (
            isinstance(node, ast.ListComp)
            and len(node.generators) == 1
            and isinstance(node.generators[0].iter, ast.Name)
            and not node.generators[0].ifs
        ):
            return self.members.get(node.generators[0].iter.id)
        if isinstance(node, ast.Call) and call_name(node) in {"values", "keys"}:
            mapping = node.func.value if isinstance(node.func, ast.Attribute) else None
            if isinstance(mapping, ast.Name) and mapping.id in self.dicts:
                literal = self.dicts[mapping.id]
                items = literal.values if call_name(node) == "values" else literal.keys
                return [v for item in items if (v := self.one(item)) is not None]
        if (
            isinstance(node, ast.Call)
            and call_name(node) in {"list", "tuple", "sorted", "set"}
            and len(node.args) == 1
        ):
            if isinstance(node.args[0], ast.Name) and node.args[0].id in self.members:
                return self.members[node.args[0].id]
            return self.elements(node.args[0])
        return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument `name` of a call, if given."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def call_name(call: ast.Call) -> str:
    """`f` for `f(...)` and `x.y.f(...)`."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def base_names(cls: ast.ClassDef) -> list[str]:
    """Names of a class's bases (`A`, `mod.A`, `A[T]` all give `A`)."""
    names = []
    for base in cls.bases:
        node = base.value if isinstance(base, ast.Subscript) else base
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.Name):
            names.append(node.id)
    return names
