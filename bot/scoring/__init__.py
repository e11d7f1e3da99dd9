"""The scoring core: criteria sets, rules, totals, classification, ranking and gaps.

Pure Python and pydantic, no aiogram, no SQLAlchemy, so every screen, export and benchmark uses the
same arithmetic and it can be tested without a bot.
"""

from bot.scoring.bands import DEFAULT_BANDS, ClassBand, Grade, bands_from_config, grade
from bot.scoring.codes import code_key
from bot.scoring.gaps import (
    Comparison,
    FieldComparison,
    ItemGap,
    change_since,
    compare,
    group_average,
    group_averages,
    item_gaps,
    item_indexes,
)
from bot.scoring.loader import (
    CriteriaError,
    load_criteria_set,
    parse_criteria_set,
    summary,
    validate,
)
from bot.scoring.model import CriteriaSet, Criterion, FieldArea, Leaf, RuleKind
from bot.scoring.numbers import InputError, ParsedNumber, parse_number
from bot.scoring.ranking import Awards, RankEntry, RankRow, awards, rank_group
from bot.scoring.rules import Answer, choices, expects_text, reachable_max, score_answer, score_survey
from bot.scoring.sheet import (
    Basis,
    CriterionResult,
    FieldResult,
    LeafResult,
    LeafScore,
    Part,
    SheetResult,
    compute_sheet,
    fmt_index,
    fmt_points,
    index_of,
)

__all__ = [
    "DEFAULT_BANDS",
    "Answer",
    "Awards",
    "Basis",
    "ClassBand",
    "Comparison",
    "CriteriaError",
    "CriteriaSet",
    "Criterion",
    "CriterionResult",
    "FieldArea",
    "FieldComparison",
    "FieldResult",
    "Grade",
    "InputError",
    "ItemGap",
    "Leaf",
    "LeafResult",
    "LeafScore",
    "ParsedNumber",
    "Part",
    "RankEntry",
    "RankRow",
    "RuleKind",
    "SheetResult",
    "awards",
    "bands_from_config",
    "change_since",
    "choices",
    "code_key",
    "compare",
    "compute_sheet",
    "expects_text",
    "fmt_index",
    "fmt_points",
    "grade",
    "group_average",
    "group_averages",
    "index_of",
    "item_gaps",
    "item_indexes",
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
