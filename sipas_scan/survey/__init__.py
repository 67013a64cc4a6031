"""Survey definitions: the model and its validating loader."""

from sipas_scan.survey.loader import default_survey_path, find_survey, load_survey
from sipas_scan.survey.model import (
    Condition,
    Grid,
    IndexNode,
    Option,
    Question,
    Scale,
    Section,
    Survey,
)

__all__ = [
    "Condition",
    "Grid",
    "IndexNode",
    "Option",
    "Question",
    "Scale",
    "Section",
    "Survey",
    "default_survey_path",
    "find_survey",
    "load_survey",
]
