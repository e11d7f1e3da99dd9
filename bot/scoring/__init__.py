"""The scoring core: criteria sets, rules, totals, classification, ranking and gaps.

Pure Python and pydantic, no aiogram, no SQLAlchemy, so every screen, export and benchmark uses the
same arithmetic and it can be tested without a bot.
"""

from bot.scoring.bands import DEFAULT_BANDS, ClassBand, bands_from_config, classify
from bot.scoring.gaps import (
    FieldComparison,
    ItemGap,
    change_since,
    compare_fields,
    group_average,
    item_gaps,
)
from bot.scoring.loader import (
    CriteriaError,
    code_key,
    load_criteria_set,
    parse_criteria_set,
    summary,
    validate,
)
from bot.scoring.model import CriteriaSet, Criterion, FieldArea, Leaf, RuleKind
from bot.scoring.numbers import InputError, ParsedNumber, parse_number
from bot.scoring.ranking import RankEntry, RankRow, awards, rank_group
from bot.scoring.rules import Answer, choices, expects_text, reachable_max, score_answer, score_survey
from bot.scoring.sheet import (
    Basis,
    CriterionResult,
    FieldResult,
    LeafResult,
    LeafScore,
    SheetResult,
    compute_sheet,
    fmt_index,
    fmt_points,
    index_of,
)

__all__ = [
    "DEFAULT_BANDS",
    "Answer",
    "Basis",
    "ClassBand",
    "CriteriaError",
    "CriteriaSet",
    "Criterion",
    "CriterionResult",
    "FieldArea",
    "FieldComparison",
    "FieldResult",
    "InputError",
    "ItemGap",
    "Leaf",
    "LeafResult",
    "LeafScore",
    "ParsedNumber",
    "RankEntry",
    "RankRow",
    "RuleKind",
    "SheetResult",
    "awards",
    "bands_from_config",
    "change_since",
    "choices",
    "classify",
    "code_key",
    "compare_fields",
    "compute_sheet",
    "expects_text",
    "fmt_index",
    "fmt_points",
    "group_average",
    "index_of",
    "item_gaps",
    "load_criteria_set",
    "parse_criteria_set",
    "parse_number",
    "rank_group",
    "reachable_max",
    "score_answer",
    "score_survey",
    "summary",
    "validate",
]
