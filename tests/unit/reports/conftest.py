"""Shared inputs for the report tests: a small criteria set scored through the real core."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.scoring.model import CriteriaSet
from bot.scoring.sheet import Basis, LeafScore, SheetResult, compute_sheet

D = Decimal


@pytest.fixture
def criteria_set() -> CriteriaSet:
    return CriteriaSet.model_validate(
        {
            "code": "test-so",
            "name": "Bộ chỉ số thử",
            "year": 2025,
            "unit_types": ["so"],
            "max_points": "10",
            "fields": [
                {
                    "code": "1",
                    "name": "Chỉ đạo, điều hành cải cách hành chính",
                    "max_points": "6",
                    "criteria": [
                        {
                            "code": "1.1",
                            "name": "Kế hoạch cải cách hành chính năm",
                            "max_points": "4",
                            "sub_criteria": [
                                {
                                    "code": "1.1.1",
                                    "name": "Ban hành kế hoạch kịp thời",
                                    "max_points": "2",
                                    "rule": {"kind": "boolean"},
                                    "rule_text": "Có: 2 điểm",
                                },
                                {
                                    "code": "1.1.2",
                                    "name": "Mức độ hoàn thành kế hoạch",
                                    "max_points": "2",
                                    "rule": {"kind": "manual", "step": "0.125"},
                                    "rule_text": "Theo tỷ lệ",
                                    "allow_na": True,
                                },
                            ],
                        },
                        {
                            "code": "1.2",
                            "name": "Kiểm tra cải cách hành chính",
                            "max_points": "2",
                            "rule": {"kind": "manual"},
                            "rule_text": "0-2 điểm",
                        },
                    ],
                },
                {
                    "code": "2",
                    "name": "Hiện đại hóa hành chính",
                    "max_points": "4",
                    "criteria": [
                        {
                            "code": "2.1",
                            "name": "Ứng dụng công nghệ thông tin",
                            "max_points": "4",
                            "sub_criteria": [
                                {
                                    "code": "2.1.1",
                                    "name": "Tỷ lệ văn bản điện tử",
                                    "max_points": "3",
                                    "rule": {"kind": "proportional"},
                                    "rule_text": "Tỷ lệ × 3",
                                },
                                {
                                    "code": "2.1.2",
                                    "name": "Chữ ký số",
                                    "max_points": "1",
                                    "rule": {"kind": "boolean"},
                                    "rule_text": "Có: 1 điểm",
                                },
                            ],
                        }
                    ],
                },
            ],
        }
    )


SCORES = {
    "1.1.1": LeafScore(self_points=D(2), appraisal1=D(2)),
    "1.1.2": LeafScore(self_points=D("1.875"), appraisal1=D("1.125"), final=D("1.5")),
    "1.2": LeafScore(self_points=D(2), appraisal1=D("1.75")),
    "2.1.1": LeafScore(self_points=D(3), appraisal1=D(2) / D(3)),
    "2.1.2": LeafScore(self_points=D(1), appraisal1=D(0)),
}


@pytest.fixture
def final_sheet(criteria_set: CriteriaSet) -> SheetResult:
    return compute_sheet(criteria_set, SCORES, Basis.FINAL)


@pytest.fixture
def self_sheet(criteria_set: CriteriaSet) -> SheetResult:
    return compute_sheet(criteria_set, SCORES, Basis.SELF)


@pytest.fixture
def appraisal1() -> dict[str, Decimal | None]:
    return {code: score.appraisal1 for code, score in SCORES.items()}
