"""Reading scenario files safely, and turning every problem into one clear message.

A planner's typo must never become a traceback or, worse, a silent default. Every error names
the file, the path of the field (`partners[2] (Northshire).ambition`) and what is wrong, and
suggests the key they probably meant.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario import Scenario, _FieldError

MAX_FILE_BYTES = 2_000_000
MAX_ALIASES = 100
MAX_NODES = 200_000
MAX_DEPTH = 40


class ScenarioError(Exception):
    """A scenario that cannot be used, with a message fit to show the user as it is."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        shown = "\n".join(f"  - {p}" for p in self.problems[:12])
        more = f"\n  ... and {len(self.problems) - 12} more" if len(self.problems) > 12 else ""
        return f"{self.source}: {len(self.problems)} problems\n{shown}{more}"


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs (a few anchors expanding to millions of nodes)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (*refs); refusing to expand")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        """A key given twice is an error (plain YAML keeps the last one silently, so a typo'd
        copy of a block would quietly override the original)."""
        first: dict = {}
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                continue
            if key in first:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {key!r} (first given on line {first[key] + 1})",
                    problem_mark=key_node.start_mark)
            first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _check_shape(data, path="(top)") -> None:
    """Refuse self-referencing or absurdly large/deep structures before validating them."""
    count = 0
    stack = [(data, 0, ())]
    while stack:
        node, depth, ancestors = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ValueError(f"more than {MAX_NODES} values once aliases are expanded")
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, (dict, list)):
            if id(node) in ancestors:
                raise ValueError("the YAML refers to itself (a recursive alias)")
            inner = ancestors + (id(node),)
            children = node.values() if isinstance(node, dict) else node
            if isinstance(node, dict):
                for key in node:
                    if not isinstance(key, str):
                        raise ValueError(f"keys must be text, found {key!r}")
            stack.extend((c, depth + 1, inner) for c in children)


def read_yaml(path: str | os.PathLike) -> object:
    """Parse a YAML file with the safe loader, raising ScenarioError for any problem."""
    source = str(path)
    p = Path(path)
    if not p.exists():
        raise ScenarioError(source, ["no such file"])
    if p.is_dir():
        raise ScenarioError(source, ["is a directory, not a scenario file"])
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                source, [f"file is {size:,} bytes; scenarios are limited to {MAX_FILE_BYTES:,}"]
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(source, [f"cannot read: {exc.strerror or exc}"]) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(source, ["UTF-16 text, not UTF-8; save it as UTF-8"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            source, [f"not UTF-8 text (byte {exc.start}: {raw[exc.start]:#04x}); save it as UTF-8"]
        ) from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str = "<scenario>") -> object:
    """Parse scenario YAML text with the guarded safe loader (ScenarioError for any problem)."""
    if "\x00" in text:
        raise ScenarioError(source, ["contains NUL bytes: not a text file"])
    try:
        data = yaml.load(text, Loader=_GuardedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.constructor.ConstructorError as exc:
        where = _mark(exc.problem_mark)
        raise ScenarioError(
            source, [f"{where}unsupported YAML tag ({exc.problem}); only plain data is allowed"]
        ) from None
    except yaml.YAMLError as exc:
        where = _mark(getattr(exc, "problem_mark", None))
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, [f"{where}not valid YAML: {problem}"]) from None
    except RecursionError:
        raise ScenarioError(source, ["YAML nested too deeply"]) from None
    if data is None:
        raise ScenarioError(source, ["file is empty"])
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ScenarioError(source, [f"top level must be a mapping of fields, found a {kind}"])
    try:
        _check_shape(data)
    except ValueError as exc:
        raise ScenarioError(source, [str(exc)]) from None
    return data


def _mark(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file. Raises ScenarioError with every problem found."""
    data = read_yaml(path)
    return scenario_from_dict(data, source=str(path))


def as_scenario(scenario) -> Scenario:
    """A Scenario from a Scenario, a mapping (validated) or a YAML path (loaded)."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario)
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    raise TypeError(f"scenario must be a Scenario, a mapping or a path, not {type(scenario)}")


def scenario_data(scenario: Scenario) -> dict:
    """The scenario as a plain mapping that validates back to it, with unset optional fields
    left out (so code that edits it sees only what was given), but a prospective partner's
    `joins_at: null` kept, since leaving it out would make it a founder."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    for entry, partner in zip(data.get("partners") or [], scenario.partners or []):
        if partner.joins_at is None:
            entry["joins_at"] = None
    return data


def load_scenario_text(text: str, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as YAML text (e.g. the copy a results folder keeps)."""
    return scenario_from_dict(parse_yaml(text, source), source=source)


def scenario_from_dict(data: dict, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a mapping (as parsed from YAML or built in a notebook)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, format_validation_errors(exc, data)) from None
    except RecursionError:
        raise ScenarioError(source, ["structure nested too deeply"]) from None


# --- turning pydantic errors into plain sentences ----------------------------------------------

def format_validation_errors(exc: ValidationError, data) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        msg = err["msg"]
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, _FieldError):
            loc, msg = loc + tuple(error.loc), error.message
        else:
            loc = _drop_union_branches(loc)
            msg = _plain(err, loc)
        text = f"{_path(loc, data)}: {msg}" if loc else msg
        if text not in seen:  # union branches repeat the same complaint
            seen.add(text)
            problems.append(text)
    return _prefer_specific(problems)


_BRANCH_TAGS = {"float", "Uniform", "Triangular", "Beta", "OneOf", "function-after[_check(), union[float,Uniform,Triangular,Beta,OneOf]]"}


def _drop_union_branches(loc: tuple) -> tuple:
    return tuple(p for p in loc if not (isinstance(p, str) and (p in _BRANCH_TAGS or p.startswith("function-"))))


_DIST_TAGS = re.compile(r"\.(uniform|triangular|beta|one_of)(\.[a-z_]+|\[\d+\])?$")
_SPECIFIC = ("must lie within", "must not exceed", "need low", "finite", "greater than",
             "less than or equal")


def _prefer_specific(problems: list[str]) -> list[str]:
    """For a number-or-distribution field, one clear line beats five union-branch complaints:
    keep the complaint about the form the user evidently meant, or say what forms exist."""
    by_field: dict[str, list[str]] = {}
    for p in problems:
        field = _DIST_TAGS.sub("", p.split(": ", 1)[0])
        by_field.setdefault(field, []).append(p)
    out = []
    for field, items in by_field.items():
        if len(items) > 1:
            specific = [i for i in items if any(s in i for s in _SPECIFIC)]
            if specific:
                items = specific[:1]
            elif any("valid number" in i or "a number or a distribution" in i for i in items):
                items = [f"{field}: expected a number or a distribution "
                         "({uniform: [low, high]}, {triangular: [low, mode, high]}, "
                         "{beta: {a, b}}, or a list of values)"]
        out.extend(items)
    return out


def _plain(err: dict, loc: tuple) -> str:
    kind = err["type"]
    msg = err["msg"]
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        options = _fields_at(loc[:-1])
        hint = ""
        if options:
            close = difflib.get_close_matches(str(key), options, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(sorted(options))})"
        return f"unknown field{hint}"
    if kind == "missing":
        return "required field is missing"
    if kind.startswith("float") or kind.startswith("int"):
        inp = err.get("input")
        return f"{msg.replace('Input should be', 'should be')} (got {inp!r})"
    if kind == "model_type" or kind == "dict_type":
        return f"{msg.replace('Input should be', 'should be')} (got {type(err.get('input')).__name__})"
    msg = msg.replace("Value error, ", "").replace("Input should be", "should be")
    return msg


def _path(loc: tuple, data) -> str:
    """Render ('partners', 2, 'ambition') as 'partners[2] (Northshire).ambition'."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                out += f" ({node['name']})"
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _fields_at(loc: tuple) -> list[str]:
    """Names of the fields allowed at a location in the schema, for 'did you mean' hints."""
    model: type[BaseModel] | None = Scenario
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _inner_model(field.annotation)
    return list(model.model_fields) if model is not None else []


def _inner_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
