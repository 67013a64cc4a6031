import textwrap

import pytest

from sipas_scan.errors import SurveyDefinitionError
from sipas_scan.survey import load_survey

CONTRACT_IDS = (
    ["a1", "a2", "a3", "a4", "a5"]
    + [f"c1_{i}" for i in range(1, 4)]
    + [f"c2_{i}" for i in range(1, 6)]
    + [f"c3_{i}" for i in range(1, 7)]
    + [f"c4_{i}" for i in range(1, 5)]
    + [f"c5_{i}" for i in range(1, 5)]
    + ["e1", "d1", "d2", "d3", "d4", "d5", "t1"]
)


def test_standard_survey_has_the_contract_question_ids_in_order():
    survey = load_survey()
    assert survey.field_ids() == CONTRACT_IDS
    assert survey.field("a1").codes == ("1", "2", "3")
    assert survey.field("a2").codes == tuple(str(i) for i in range(1, 10))
    assert survey.field("a4").codes == ("1", "2", "3", "4")
    assert survey.field("a5").codes == ("1", "2")
    assert survey.field("e1").kind == "multi" and survey.field("e1").max_choices == 3
    assert survey.field("e1").codes == tuple(str(i) for i in range(1, 11))
    assert survey.field("t1").kind == "text"
    for criterion in CONTRACT_IDS[5:27]:
        assert survey.field(criterion).codes == ("1", "2", "3", "4", "5")
        assert survey.field(criterion).positive == ("4", "5")


def test_feedback_factor_is_filtered_by_a5_and_nothing_else_is():
    survey = load_survey()
    filtered = {q.id for q in survey.fields() if q.applies_if}
    assert filtered == {"c5_1", "c5_2", "c5_3", "c5_4"}
    condition = survey.field("c5_3").applies_if
    assert condition.question == "a5" and condition.codes == ("1",)
    assert condition.holds("1") and not condition.holds("2") and not condition.holds("")


def test_index_hierarchy_comes_from_the_definition():
    index = load_survey().index
    assert index.id == "SIPAS"
    assert [f.id for f in index.children] == ["F1", "F2", "F3", "F4", "F5"]
    assert [len(f.criteria) for f in index.children] == [3, 5, 6, 4, 4]
    assert index.all_criteria() == tuple(CONTRACT_IDS[5:27])


def test_national_survey_has_policy_and_service_areas_with_33_criteria():
    survey = load_survey("sipas-national-2023")
    index = survey.index
    assert [area.id for area in index.children] == ["P", "S"]
    assert len(index.children[0].all_criteria()) == 14
    assert len(index.children[1].all_criteria()) == 19
    grids = {q.grid for q in survey.fields() if q.grid}
    assert len(grids) >= 10  # interest, experiences, priorities, 4 policy and 5 service grids


def test_every_question_text_is_vietnamese_and_non_empty():
    for name in ("sipas-household", "sipas-national-2023"):
        survey = load_survey(name)
        for question in survey.fields():
            assert question.text.strip(), question.id
            for option in question.options:
                assert option.label.strip()


VALID_HEAD = """\
survey: tt
title: Phiếu thử
scales:
  s5:
    options:
      - {code: "1", label: Một}
      - {code: "2", label: Hai}
    positive: ["2"]
sections:
  - id: A
    title: A
    questions:
"""


def _load(tmp_path, body: str):
    path = tmp_path / "s.yaml"
    path.write_text(VALID_HEAD + textwrap.indent(textwrap.dedent(body), "      "), encoding="utf-8")
    return load_survey(path)


def test_a_minimal_definition_loads(tmp_path):
    survey = _load(
        tmp_path,
        """\
        - {id: q1, kind: single, text: Câu một, options: [{code: "1", label: Có}, {code: "2", label: Không}]}
        - {id: q2, kind: text, text: Ý kiến, lines: 2}
    """,
    )
    assert survey.field_ids() == ["q1", "q2"]


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        (
            """\
        - {id: q1, kind: single, text: A, scale: s5}
        - {id: q1, kind: single, text: B, scale: s5}
     """,
            14,
            "duplicate id 'q1' (first at line 13)",
        ),
        ("- {id: q1, kind: slider, text: A}\n", 13, "unknown kind 'slider'"),
        ("- {id: q1, kind: single, text: A}\n", 13, "choice question 'q1' has no options"),
        (
            "- {id: q1, kind: single, text: A, scale: s5, applies_if: {question: zz, in: ['1']}}\n",
            13,
            "skip rule names an unknown question 'zz'",
        ),
        (
            """\
        - {id: q1, kind: single, text: A, scale: s5, applies_if: {question: q2, in: ['1']}}
        - {id: q2, kind: single, text: B, scale: s5}
     """,
            13,
            "skip rule names a later question 'q2'",
        ),
        (
            """\
        - {id: q1, kind: single, text: A, scale: s5}
        - {id: q2, kind: single, text: B, scale: s5, applies_if: {question: q1, in: ['7']}}
     """,
            14,
            "names code(s) 7 it does not have",
        ),
        ("- {id: q1, kind: single, text: A, options: [{code: '1', label: Có, rồi}]}\n", 13, "must be quoted"),
        ("- {id: q1, kind: multi, text: A, scale: s5, max: 9}\n", 13, "'max' must be 1..2"),
        ("- {id: q1, kind: grid, text: A, scale: nope, rows: [{id: r1, text: x}]}\n", 13, "needs a known 'scale'"),
        ("- {id: Q1, kind: single, text: A, scale: s5}\n", 13, "must be lower-case"),
    ],
)
def test_invalid_definitions_name_the_line_and_the_reason(tmp_path, body, line, reason):
    with pytest.raises(SurveyDefinitionError) as caught:
        _load(tmp_path, body)
    assert any(f"s.yaml:{line}: " in e and reason in e for e in caught.value.errors), caught.value.errors


def test_index_errors_are_reported(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        VALID_HEAD
        + """\
      - {id: q1, kind: single, text: A, scale: s5}
      - {id: q2, kind: single, text: B, options: [{code: "1", label: x}]}
index:
  id: ALL
  label: Tất cả
  criteria: [q1, q2, q9, q1]
""",
        encoding="utf-8",
    )
    with pytest.raises(SurveyDefinitionError) as caught:
        load_survey(path)
    text = "\n".join(caught.value.errors)
    assert "criterion 'q2' must be a single-choice question on a scale with 'positive' codes" in text
    assert "unknown criterion 'q9'" in text
    assert "criterion 'q1' is already counted" in text


def test_yaml_syntax_and_duplicate_keys_have_lines(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("survey: tt\ntitle: x\ntitle: y\n", encoding="utf-8")
    with pytest.raises(SurveyDefinitionError, match=r"bad.yaml:3: .*duplicate key 'title'"):
        load_survey(path)
    path.write_text("survey: tt\nsections: [\n", encoding="utf-8")
    with pytest.raises(SurveyDefinitionError, match=r"bad.yaml:\d+: YAML syntax"):
        load_survey(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SurveyDefinitionError, match="no such survey definition file"):
        load_survey(tmp_path / "nope.yaml")
