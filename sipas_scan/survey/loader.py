"""Load and validate a survey definition (YAML) with line-numbered errors.

The format is documented in sipas_scan/forms/README.md. Every problem found is reported
as ``path:line: reason``; nothing half-valid is returned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sipas_scan.errors import ExitCode, SurveyDefinitionError
from sipas_scan.survey.model import (
    Condition,
    Grid,
    IndexNode,
    Item,
    Option,
    Question,
    Scale,
    Section,
    Survey,
)

FORMS_DIR = Path(__file__).resolve().parents[1] / "forms"
DEFAULT_SURVEY_FILE = "sipas-household.yaml"

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
CODE_PATTERN = re.compile(r"^[0-9A-Za-z]{1,4}$")
KINDS = ("single", "multi", "text", "grid")
TOP_LEVEL_KEYS = {
    "survey",
    "version",
    "title",
    "short_title",
    "subtitle",
    "intro",
    "instructions",
    "closing",
    "scales",
    "sections",
    "index",
    "issuer",
}
QUESTION_KEYS = {
    "id",
    "kind",
    "text",
    "label",
    "options",
    "scale",
    "max",
    "lines",
    "applies_if",
    "columns",
    "note",
    "rows",
}
DEFAULT_TEXT_LINES = 4


class SurveyFileMissingError(SurveyDefinitionError):
    """No file to validate: an input problem (exit 3), not an invalid definition."""

    exit_code = ExitCode.input_file


def default_survey_path() -> Path:
    return FORMS_DIR / DEFAULT_SURVEY_FILE


class _Map(dict):
    """A YAML mapping that remembers the line it started on (1-based)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    mapping = _Map()
    mapping.line = node.start_mark.line + 1
    seen: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key]})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def _parse_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        names = ", ".join(p.stem for p in sorted(FORMS_DIR.glob("*.yaml")))
        raise SurveyFileMissingError(
            [f"{path}: no such survey definition file; give a .yaml file or the name of a bundled one ({names})"]
        ) from None
    except IsADirectoryError:
        raise SurveyFileMissingError([f"{path}: is a folder; give a survey definition .yaml file"]) from None
    except UnicodeDecodeError as exc:
        raise SurveyDefinitionError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise SurveyDefinitionError([f"{path}:{line}: YAML syntax: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise SurveyDefinitionError([f"{path}: YAML syntax: {exc}"]) from None


class _Validator:
    """Builds the model while collecting every problem with its line."""

    def __init__(self, path: Path):
        self.path = path
        self.errors: list[str] = []
        self.ids: dict[str, int] = {}
        self.fields: dict[str, Question] = {}
        self.declared_ids: set[str] = set()  # every id in the file, to tell "later" from "unknown"

    def error(self, where: Any, reason: str) -> None:
        line = getattr(where, "line", where if isinstance(where, int) else 0)
        self.errors.append(f"{self.path}:{line}: {reason}")

    def text(self, node: _Map, key: str, *, required: bool = True, default: str = "") -> str:
        value = node.get(key)
        if value is None:
            if required:
                self.error(node, f"missing '{key}'")
            return default
        if not isinstance(value, (str, int, float)):
            self.error(node, f"'{key}' must be text")
            return default
        return str(value).strip()

    def paragraphs(self, node: _Map, key: str) -> tuple[str, ...]:
        value = node.get(key, [])
        if isinstance(value, str):
            return (value.strip(),)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(node, f"'{key}' must be a text or a list of texts")
            return ()
        return tuple(v.strip() for v in value)

    def claim_id(self, node: _Map, ident: Any, what: str) -> str | None:
        if not isinstance(ident, str) or not ID_PATTERN.match(ident):
            self.error(node, f"{what} id {ident!r} must be lower-case letters, digits and '_', starting with a letter")
            return None
        if ident in self.ids:
            self.error(node, f"duplicate id '{ident}' (first at line {self.ids[ident]})")
            return None
        self.ids[ident] = node.line
        return ident

    def options(self, node: _Map, raw: Any, owner: str) -> tuple[Option, ...]:
        if not isinstance(raw, list) or not raw:
            self.error(node, f"'{owner}' has no options")
            return ()
        options: list[Option] = []
        codes: set[str] = set()
        for entry in raw:
            if not isinstance(entry, _Map) or "code" not in entry or "label" not in entry:
                self.error(entry if isinstance(entry, _Map) else node, f"an option of '{owner}' needs 'code' and 'label'")
                continue
            extra = sorted(set(entry) - {"code", "label"}, key=str)
            if extra:
                self.error(
                    entry,
                    f"an option of '{owner}' has unknown key(s) {', '.join(map(str, extra))} (a label with a comma must be quoted)",
                )
            code = str(entry["code"])
            if not CODE_PATTERN.match(code):
                self.error(entry, f"option code {code!r} of '{owner}' must be 1-4 letters or digits")
                continue
            if code in codes:
                self.error(entry, f"duplicate option code '{code}' in '{owner}'")
                continue
            codes.add(code)
            options.append(Option(code=code, label=str(entry["label"]).strip()))
        return tuple(options)

    def scales(self, raw: Any, top: _Map) -> dict[str, Scale]:
        if raw is None:
            return {}
        if not isinstance(raw, _Map):
            self.error(top, "'scales' must map scale names to their options")
            return {}
        scales: dict[str, Scale] = {}
        for name, body in raw.items():
            if not isinstance(body, _Map):
                self.error(raw, f"scale '{name}' must have 'options'")
                continue
            options = self.options(body, body.get("options"), f"scale {name}")
            positive = tuple(str(code) for code in body.get("positive", []) or [])
            unknown = [code for code in positive if code not in {o.code for o in options}]
            if unknown:
                self.error(body, f"scale '{name}': positive code(s) {', '.join(unknown)} are not among its options")
            scales[str(name)] = Scale(name=str(name), options=options, positive=positive)
        return scales

    def condition(self, node: _Map, scales: dict[str, Scale]) -> Condition | None:
        raw = node.get("applies_if")
        if raw is None:
            return None
        if not isinstance(raw, _Map) or "question" not in raw or "in" not in raw:
            self.error(node, "'applies_if' needs 'question' and 'in' (a list of codes)")
            return None
        target = str(raw["question"])
        listed = raw["in"] if isinstance(raw["in"], list) else [raw["in"]]
        codes = tuple(str(code) for code in listed)
        question = self.fields.get(target)
        if question is None:
            where = "a later question" if target in self.declared_ids else "an unknown question"
            self.error(raw, f"skip rule names {where} '{target}' (it must be asked earlier in the survey)")
            return None
        if question.kind == "text":
            self.error(raw, f"skip rule names text question '{target}'; only choice questions can filter")
            return None
        unknown = [code for code in codes if code not in question.codes]
        if unknown:
            self.error(raw, f"skip rule on '{target}' names code(s) {', '.join(unknown)} it does not have")
            return None
        return Condition(question=target, codes=codes)

    def choice_options(self, node: _Map, ident: str, scales: dict[str, Scale]) -> tuple[tuple[Option, ...], Scale | None]:
        if "scale" in node:
            scale = scales.get(str(node["scale"]))
            if scale is None:
                self.error(node, f"'{ident}' uses unknown scale '{node['scale']}'")
                return (), None
            return scale.options, scale
        if "options" not in node:
            self.error(node, f"choice question '{ident}' has no options (give 'options' or 'scale')")
            return (), None
        return self.options(node, node["options"], ident), None

    def question(self, node: _Map, scales: dict[str, Scale]) -> Item | None:
        unknown_keys = sorted(set(node) - QUESTION_KEYS)
        if unknown_keys:
            self.error(node, f"unknown key(s) {', '.join(unknown_keys)}")
        kind = node.get("kind")
        # The id is claimed even when the kind is wrong, so a duplicate id is
        # reported alongside the other problems, not only after they are fixed.
        ident = self.claim_id(node, node.get("id"), kind if kind in KINDS else "question")
        if kind not in KINDS:
            self.error(node, f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
            return None
        text = self.text(node, "text")
        if ident is None:
            return None
        label = str(node.get("label", ident.upper()))
        applies_if = self.condition(node, scales)
        note = self.text(node, "note", required=False)
        if kind == "grid":
            return self.grid(node, ident, text, label, applies_if, note, scales)
        if kind == "text":
            lines = node.get("lines", DEFAULT_TEXT_LINES)
            if not isinstance(lines, int) or not 1 <= lines <= 20:
                self.error(node, f"text question '{ident}': 'lines' must be a whole number 1-20")
                lines = DEFAULT_TEXT_LINES
            question = Question(id=ident, kind="text", text=text, label=label, lines=lines, applies_if=applies_if, note=note)
            self.fields[ident] = question
            return question
        options, scale = self.choice_options(node, ident, scales)
        max_choices = None
        if kind == "multi":
            max_choices = node.get("max", len(options))
            if not isinstance(max_choices, int) or not 1 <= max_choices <= max(len(options), 1):
                self.error(node, f"multiple-choice question '{ident}': 'max' must be 1..{len(options)}")
                max_choices = len(options)
        elif "max" in node:
            self.error(node, f"'max' only applies to kind multi, not '{ident}' ({kind})")
        columns = node.get("columns")
        if columns is not None and (not isinstance(columns, int) or not 1 <= columns <= 6):
            self.error(node, f"'{ident}': 'columns' must be 1-6")
            columns = None
        question = Question(
            id=ident,
            kind=kind,
            text=text,
            label=label,
            options=options,
            max_choices=max_choices,
            applies_if=applies_if,
            columns=columns,
            note=note,
            scale=scale.name if scale else None,
            positive=scale.positive if scale else (),
        )
        self.fields[ident] = question
        return question

    def grid(
        self, node: _Map, ident: str, text: str, label: str, applies_if: Condition | None, note: str, scales: dict[str, Scale]
    ) -> Grid | None:
        scale = scales.get(str(node.get("scale")))
        if scale is None:
            self.error(node, f"grid '{ident}' needs a known 'scale' (got {node.get('scale')!r})")
            return None
        raw_rows = node.get("rows")
        if not isinstance(raw_rows, list) or not raw_rows:
            self.error(node, f"grid '{ident}' has no rows")
            return None
        rows: list[Question] = []
        for raw in raw_rows:
            if not isinstance(raw, _Map):
                self.error(node, f"a row of grid '{ident}' must have 'id' and 'text'")
                continue
            row_id = self.claim_id(raw, raw.get("id"), "row")
            row_text = self.text(raw, "text")
            if row_id is None:
                continue
            default_label = re.sub(r"^[a-z]+", "", row_id).replace("_", ".") or row_id
            row = Question(
                id=row_id,
                kind="single",
                text=row_text,
                label=str(raw.get("label", default_label)),
                options=scale.options,
                applies_if=applies_if,
                scale=scale.name,
                positive=scale.positive,
                grid=ident,
            )
            self.fields[row_id] = row
            rows.append(row)
        return Grid(
            id=ident,
            text=text,
            label=label,
            scale=scale.name,
            options=scale.options,
            rows=tuple(rows),
            applies_if=applies_if,
            note=note,
        )

    def sections(self, raw: Any, top: _Map, scales: dict[str, Scale]) -> tuple[Section, ...]:
        if not isinstance(raw, list) or not raw:
            self.error(top, "'sections' must be a non-empty list")
            return ()
        sections: list[Section] = []
        for node in raw:
            if not isinstance(node, _Map):
                self.error(top, "each section must be a mapping with 'id', 'title' and 'questions'")
                continue
            section_id = str(node.get("id", ""))
            title = self.text(node, "title")
            questions = node.get("questions")
            if not isinstance(questions, list) or not questions:
                self.error(node, f"section '{section_id}' has no questions")
                continue
            items = []
            for question_node in questions:
                if not isinstance(question_node, _Map):
                    self.error(node, f"a question in section '{section_id}' is not a mapping")
                    continue
                item = self.question(question_node, scales)
                if item is not None:
                    items.append(item)
            sections.append(Section(id=section_id, title=title, items=tuple(items), note=self.text(node, "note", required=False)))
        return tuple(sections)

    def index(self, raw: Any, top: _Map) -> IndexNode | None:
        if raw is None:
            return None
        seen_nodes: dict[str, int] = {}
        seen_criteria: dict[str, int] = {}

        def build(node: Any) -> IndexNode | None:
            if not isinstance(node, _Map):
                self.error(top, "each index node must be a mapping with 'id' and 'label'")
                return None
            ident = str(node.get("id", ""))
            if not ident:
                self.error(node, "index node without 'id'")
            elif ident in seen_nodes:
                self.error(node, f"duplicate index id '{ident}' (first at line {seen_nodes[ident]})")
            elif ident in self.ids:
                self.error(node, f"index id '{ident}' is also a question id")
            seen_nodes[ident] = node.line
            label = self.text(node, "label")
            children = node.get("children", []) or []
            criteria = node.get("criteria", []) or []
            if bool(children) == bool(criteria):
                self.error(node, f"index node '{ident}' needs either 'children' or 'criteria'")
            for criterion in criteria:
                question = self.fields.get(str(criterion))
                if question is None:
                    self.error(node, f"index node '{ident}' names unknown criterion '{criterion}'")
                elif question.kind != "single" or not question.positive:
                    self.error(node, f"criterion '{criterion}' must be a single-choice question on a scale with 'positive' codes")
                elif criterion in seen_criteria:
                    self.error(node, f"criterion '{criterion}' is already counted under line {seen_criteria[criterion]}")
                seen_criteria[str(criterion)] = node.line
            built = [build(child) for child in children]
            return IndexNode(id=ident, label=label, children=tuple(c for c in built if c), criteria=tuple(str(c) for c in criteria))

        return build(raw)

    def survey(self, top: Any) -> Survey:
        if not isinstance(top, _Map):
            raise SurveyDefinitionError([f"{self.path}:1: a survey definition is a mapping with 'survey', 'title' and 'sections'"])
        unknown_keys = sorted(set(top) - TOP_LEVEL_KEYS)
        if unknown_keys:
            self.error(top, f"unknown top-level key(s) {', '.join(unknown_keys)}")
        survey_id = str(top.get("survey", ""))
        if not re.match(r"^[a-z0-9][a-z0-9-]{1,31}$", survey_id):
            self.error(top, f"'survey' id {survey_id!r} must be 2-32 lower-case letters, digits or '-'")
        for section in top.get("sections") or []:
            for question in (section.get("questions") or []) if isinstance(section, dict) else []:
                if isinstance(question, dict):
                    self.declared_ids.add(str(question.get("id")))
                    for row in question.get("rows") or []:
                        if isinstance(row, dict):
                            self.declared_ids.add(str(row.get("id")))
        scales = self.scales(top.get("scales"), top)
        sections = self.sections(top.get("sections"), top, scales)
        index = self.index(top.get("index"), top)
        title = self.text(top, "title")
        if self.errors:
            raise SurveyDefinitionError(self.errors)
        return Survey(
            id=survey_id,
            version=str(top.get("version", "1")),
            title=title,
            short_title=self.text(top, "short_title", required=False, default=title),
            subtitle=self.text(top, "subtitle", required=False),
            intro=self.paragraphs(top, "intro"),
            instructions=self.paragraphs(top, "instructions"),
            closing=self.text(top, "closing", required=False),
            issuer=self.paragraphs(top, "issuer"),
            scales=scales,
            sections=sections,
            index=index,
            source_path=str(self.path),
        )


def load_survey(path: str | Path | None = None) -> Survey:
    """Load a survey definition; a bare name is looked up among the bundled definitions (sipas_scan/forms/).

    Raises SurveyDefinitionError listing every problem as ``path:line: reason``.
    """
    if path is None:
        resolved = default_survey_path()
    else:
        resolved = Path(path)
        if not resolved.exists() and not resolved.is_absolute():
            for candidate in (FORMS_DIR / resolved, FORMS_DIR / f"{resolved}.yaml"):
                if candidate.exists():
                    resolved = candidate
                    break
    return _Validator(resolved).survey(_parse_yaml(resolved))


def available_surveys() -> list[Survey]:
    """Every valid survey definition in forms/ (an invalid file is skipped:
    ``survey check`` reports it)."""
    surveys = []
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        try:
            surveys.append(load_survey(path))
        except SurveyDefinitionError:
            continue
    return surveys


def find_survey(survey_id: str) -> Survey:
    """The survey definition in forms/ whose id is ``survey_id``."""
    for survey in available_surveys():
        if survey.id == survey_id:
            return survey
    raise SurveyDefinitionError([f"{FORMS_DIR}: no survey definition with id '{survey_id}'"])
