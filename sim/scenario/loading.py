"""Reading scenario files safely, and turning every problem into one clear message.

A planner's typo must never become a traceback or, worse, a silent default. Every error names
the file, the path of the field (`partners[2] (Northshire).ambition`) and what is wrong, and
suggests the key they probably meant.
"""

from __future__ import annotations

import codecs
import difflib
import os
import re
import stat
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario.schema import FieldError, Scenario

#: The scenarios shipped with collabsim: a pattern register, the validation and the teaching page
#: find them by name.
SHIPPED_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


MAX_FILE_BYTES = 2_000_000
MAX_ALIASES = 100
MAX_NODES = 200_000
MAX_DEPTH = 40
#: No mapping in a scenario has more keys than this (the largest, `parameters`, has about 40),
#: and no list more items (a distribution's list of values may hold 10,000): a file beyond
#: either is refused while it is read, before anything is built from it.
MAX_KEYS = 100
MAX_ITEMS = 10_000


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


class UnreadableFile(ValueError):
    """A file that is not read: missing, not a regular file, too large, or unreadable."""


def read_regular_file(path: str | os.PathLike, limit: int, *,
                      follow_symlinks: bool = True) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes (UnreadableFile
    otherwise, with a message that does not repeat the path). Devices, pipes and sockets are
    refused without reading from them (so /dev/zero or a FIFO cannot fill memory or hang), and
    at most `limit` + 1 bytes are ever read, whatever the file claims its size is."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnreadableFile("no such file") from None
    except IsADirectoryError:
        raise UnreadableFile("is a directory, not a file") from None
    except OSError as exc:
        if not follow_symlinks and os.path.islink(path):
            raise UnreadableFile("a symbolic link, not a regular file; refusing to follow it") \
                from None
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"not a regular file (a {_file_kind(info.st_mode)}); "
                                 "give a file")
        if info.st_size > limit:
            raise UnreadableFile(f"file is {info.st_size:,} bytes; the limit is {limit:,}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnreadableFile(f"file is over {limit:,} bytes, the limit")
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def read_scenario_text(path: str | os.PathLike) -> str:
    """A scenario file's text: a regular UTF-8 file of at most MAX_FILE_BYTES (ScenarioError
    naming the file otherwise). Read once: callers keep this text rather than read it again."""
    source = str(path)
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except UnreadableFile as exc:
        message = str(exc).replace("the limit is", "scenarios are limited to")
        raise ScenarioError(source, [message]) from None
    return decode_text(raw, source)


def decode_text(raw: bytes, source: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped), or a ScenarioError that names the
    first bad byte by its position in the file."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(source, ["UTF-16 text, not UTF-8; save it as UTF-8"])
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = bom + exc.start
        line = raw.count(b"\n", 0, at) + 1
        raise ScenarioError(
            source, [f"not UTF-8 text (byte {at}, line {line}: {raw[at]:#04x}); save it as UTF-8"]
        ) from None


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's parser when installed


class _GuardedLoader(_Base):
    """The safe loader (libyaml's when there is one) with YAML 1.2's plain scalars, refusing
    keys given twice. Only `true`/`false` are booleans, and only plain decimal numbers are
    numbers: YAML 1.1's `yes`, `on`, `off`, sexagesimal `1:30`, octal `010` and `1_000` stay
    text, so a number field given one is refused instead of silently read as 1, 90 or 8."""

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


_PLAIN = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_GuardedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _PLAIN]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for _tag, _pattern, _first in (
        ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
        ("tag:yaml.org,2002:int", r"[-+]?(?:0|[1-9][0-9]*)", "-+0123456789"),
        ("tag:yaml.org,2002:float",
         r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", "-+0123456789.")):
    _GuardedLoader.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), list(_first))


class _TooBig(ValueError):
    """A YAML stream refused while it is read (before anything is built from it)."""


def _scan(text: str) -> None:
    """Read the YAML's events (fast: libyaml's parser) and refuse, before anything is built,
    what no scenario has: more than MAX_ALIASES aliases, MAX_NODES values, MAX_DEPTH levels,
    a mapping of more than MAX_KEYS keys or a list of more than MAX_ITEMS items."""
    stack: list[list] = []    # per open collection: [is_mapping, items so far, key, path]
    nodes = aliases = 0

    def where() -> str:
        out = ""
        for is_map, count, key, _ in stack:
            if is_map:
                out += ("." if out else "") + (str(key) if key is not None else "?")
            else:
                out += f"[{count - 1}]"
        return out or "(top)"

    def add_item() -> None:
        if stack:
            top = stack[-1]
            top[1] += 1
            if top[0]:
                if top[1] % 2 and top[1] // 2 + 1 > MAX_KEYS:
                    raise _TooBig(f"{top[3]}: a mapping with more than {MAX_KEYS:,} keys; no "
                                  f"part of a scenario has that many")
            elif top[1] > MAX_ITEMS:
                raise _TooBig(f"{top[3]}: a list of more than {MAX_ITEMS:,} items; no list in "
                              f"a scenario may be that long (partners and shocks at most 1,000)")

    for event in yaml.parse(text, Loader=_GuardedLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _TooBig(f"more than {MAX_ALIASES} aliases (*refs); refusing to expand")
            add_item()
        elif isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent,
                                yaml.SequenceStartEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise _TooBig(f"more than {MAX_NODES:,} values; no scenario needs that many")
            if stack and stack[-1][0] and stack[-1][1] % 2 == 0:   # a mapping's key
                stack[-1][2] = event.value if isinstance(event, yaml.ScalarEvent) else None
            add_item()
            if not isinstance(event, yaml.ScalarEvent):
                path = where()
                if len(stack) >= MAX_DEPTH:
                    raise _TooBig(f"nested more than {MAX_DEPTH} levels deep")
                stack.append([isinstance(event, yaml.MappingStartEvent), 0, None, path])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()


def _check_shape(data, path="(top)") -> None:
    """Refuse self-referencing or absurdly large/deep structures before validating them."""
    count = 0
    stack = [(data, 0, ())]
    while stack:
        node, depth, ancestors = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ValueError(f"more than {MAX_NODES:,} values once aliases are expanded")
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
    return parse_yaml(read_scenario_text(path), str(path))


def parse_yaml(text: str, source: str = "<scenario>") -> object:
    """Parse scenario YAML text with the guarded safe loader (ScenarioError for any problem)."""
    if "\x00" in text:
        raise ScenarioError(source, ["contains NUL bytes: not a text file"])
    try:
        _scan(text)
        data = yaml.load(text, Loader=_GuardedLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooBig as exc:
        raise ScenarioError(source, [str(exc)]) from None
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


def scenario_text(scenario: Scenario) -> str:
    """The scenario as YAML text that loads back to it (what a results folder records of a
    scenario built in code, such as one with shocks added)."""
    return yaml.safe_dump(scenario_data(scenario), sort_keys=False, allow_unicode=True)


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


def scenario_from_dict(data: dict, source: str = "<scenario>", base=None) -> Scenario:
    """Validate a scenario given as a mapping (as parsed from YAML or built in a notebook).
    A `behaviour: {posterior: PATH}` is read from PATH, relative to `base` (by default the
    folder of the file `source` names, or the working folder)."""
    from sim.scenario.posterior import fill_particles

    data = fill_particles(data, source, base)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, format_validation_errors(exc, data)) from None
    except RecursionError:
        raise ScenarioError(source, ["structure nested too deeply"]) from None


# --- turning pydantic errors into plain sentences ----------------------------------------------

def format_validation_errors(exc: ValidationError, data,
                             root: type[BaseModel] = Scenario) -> list[str]:
    """Every problem pydantic found in `data` (validated against `root`, whose fields are
    suggested for a misspelt key) as one plain line naming the field's path."""
    problems: list[str] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        msg = err["msg"]
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, FieldError):
            loc, msg = loc + tuple(error.loc), error.message
        else:
            loc = _drop_union_branches(loc)
            msg = _plain(err, loc, root)
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
            inside = [i for i in items if "valid number" in i
                      and _DIST_TAGS.search(i.split(": ", 1)[0])]
            if inside:   # text or yes/no inside the distribution the user wrote
                items = inside[:1]
            elif specific:
                items = specific[:1]
            elif any("valid number" in i or "a number or a distribution" in i for i in items):
                items = [f"{field}: expected a number or a distribution "
                         "({uniform: [low, high]}, {triangular: [low, mode, high]}, "
                         "{beta: {a, b}}, or a list of values)"]
        out.extend(items)
    return out


def _plain(err: dict, loc: tuple, root: type[BaseModel] = Scenario) -> str:
    kind = err["type"]
    msg = err["msg"]
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        options = _fields_at(loc[:-1], root)
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


def _fields_at(loc: tuple, root: type[BaseModel] = Scenario) -> list[str]:
    """Names of the fields allowed at a location in the schema, for 'did you mean' hints."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items()
                      if (f.alias or name) == part), None)
        if field is None:
            return []
        model = _inner_model(field.annotation)
    return [f.alias or name for name, f in model.model_fields.items()] if model is not None \
        else []


def _inner_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
