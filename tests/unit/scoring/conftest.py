"""A small criteria set modelled on Cà Mau 1880/QĐ-UBND field 1 (domain §1.3), plus one item of
every other rule kind, so each test reads like a real sheet."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.scoring.loader import parse_criteria_set
from bot.scoring.model import CriteriaSet

SET_DATA: dict[str, Any] = {
    "code": "test-so",
    "name": "Bộ tiêu chí thử",
    "year": 2024,
    "unit_types": ["so"],
    "sample": True,
    "max_points": 16,
    "fields": [
        {
            "code": "1",
            "name": "Công tác chỉ đạo, điều hành CCHC",
            "max_points": 10,
            "criteria": [
                {
                    "code": "1.1",
                    "name": "Kế hoạch CCHC năm",
                    "max_points": 5,
                    "sub_criteria": [
                        {
                            "code": "1.1.1",
                            "name": "Ban hành kế hoạch",
                            "max_points": 1,
                            "rule_text": "Kịp thời 1; không kịp thời 0,5; không ban hành 0",
                            "rule": {
                                "kind": "levels",
                                "levels": [
                                    {"label": "Ban hành kịp thời", "points": 1},
                                    {"label": "Không kịp thời", "points": 0.5},
                                    {"label": "Không ban hành", "points": 0},
                                ],
                            },
                        },
                        {
                            "code": "1.1.2",
                            "name": "Xác định đầy đủ nhiệm vụ",
                            "max_points": 1,
                            "rule_text": "Đầy đủ 1, không 0",
                            "rule": {"kind": "boolean"},
                        },
                        {
                            "code": "1.1.3",
                            "name": "Kết quả",
                            "max_points": 1,
                            "rule_text": "Đạt 1 / không đạt 0",
                            "rule": {"kind": "boolean", "yes_label": "Đạt", "no_label": "Không đạt"},
                        },
                        {
                            "code": "1.1.4",
                            "name": "Mức độ thực hiện kế hoạch",
                            "max_points": 2,
                            "rule_text": "Trên 90%: 2; từ 70% - 90%: 1; dưới 70%: 0",
                            "rule": {
                                "kind": "bands",
                                "unit": "percent",
                                "bands": [
                                    {
                                        "min": 90,
                                        "min_inclusive": False,
                                        "max": 100,
                                        "max_inclusive": True,
                                        "points": 2,
                                    },
                                    {"min": 70, "max": 90, "max_inclusive": True, "points": 1},
                                    {"min": 0, "max": 70, "points": 0},
                                ],
                            },
                        },
                    ],
                },
                {
                    "code": "1.2",
                    "name": "Báo cáo CCHC",
                    "max_points": 2,
                    "sub_criteria": [
                        {
                            "code": "1.2.1",
                            "name": "Báo cáo đúng hạn",
                            "max_points": 1,
                            "rule_text": "Đúng hạn 1",
                            "rule": {"kind": "boolean"},
                            "appraisal_field": "vp",
                        },
                        {
                            "code": "1.2.2",
                            "name": "Nội dung đầy đủ",
                            "max_points": 1,
                            "rule_text": "Chấm theo mức độ, bước 0,25",
                            "rule": {"kind": "manual", "step": 0.25},
                        },
                    ],
                },
                {
                    "code": "1.3",
                    "name": "Họp về CCHC",
                    "max_points": 3,
                    "rule_text": "4 cuộc họp: 3; 2-3: 2; 1: 1; 0: 0",
                    "rule": {
                        "kind": "count_steps",
                        "steps": [
                            {"at_least": 4, "points": 3},
                            {"at_least": 2, "points": 2},
                            {"at_least": 1, "points": 1},
                        ],
                    },
                },
            ],
        },
        {
            "code": "2",
            "name": "Hiện đại hóa hành chính",
            "max_points": 6,
            "criteria": [
                {
                    "code": "2.1",
                    "name": "Tỷ lệ hồ sơ trực tuyến",
                    "max_points": 2,
                    "rule_text": "Tỷ lệ = a/b; Điểm = Tỷ lệ × Điểm tối đa",
                    "rule": {"kind": "proportional"},
                    "allow_na": True,
                },
                {
                    "code": "2.2",
                    "name": "Vi phạm quy chế",
                    "max_points": 2,
                    "rule_text": "Mỗi vi phạm trừ 0,5",
                    "rule": {"kind": "deduction", "per_violation": 0.5},
                },
                {
                    "code": "2.3",
                    "name": "Mức độ hài lòng",
                    "max_points": 2,
                    "rule_text": "Điều tra XHH",
                    "rule": {"kind": "survey"},
                },
            ],
        },
    ],
}


def set_data() -> dict[str, Any]:
    return copy.deepcopy(SET_DATA)


@pytest.fixture
def cs() -> CriteriaSet:
    return parse_criteria_set(set_data(), "test")
