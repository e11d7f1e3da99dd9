from decimal import Decimal

import pytest

from bot.scoring.bands import DEFAULT_BANDS, bands_from_config, classify


@pytest.mark.parametrize(
    ("index", "code"),
    [
        ("100", "xuat_sac"),
        ("90", "xuat_sac"),
        ("89.999", "tot"),  # shown as "90,00" but not Xuất sắc: classification uses full precision
        ("80", "tot"),
        ("79.99", "kha"),
        ("65", "kha"),
        ("64.99", "trung_binh"),
        ("50", "trung_binh"),
        ("49.99", "yeu"),
        ("0", "yeu"),
    ],
)
def test_default_bands_from_seed_001(index: str, code: str) -> None:
    assert classify(Decimal(index)).code == code


def test_default_band_names() -> None:
    assert [b.name_vi for b in DEFAULT_BANDS] == ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"]


def test_bands_from_config() -> None:
    bands = bands_from_config(
        [
            {"code": "a", "name_vi": "Nhóm A", "name_en": "Group A", "min": 90},
            {"code": "b", "name_vi": "Nhóm B", "min": "80"},
            {"code": "c", "name_vi": "Nhóm C", "min": "0"},
        ]
    )
    assert [(b.code, b.min) for b in bands] == [("a", 90), ("b", 80), ("c", 0)]
    assert bands[1].name_en == "Nhóm B"
    assert classify(Decimal("85.5"), bands).code == "b"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([{"code": "a", "name_vi": "A", "min": 50}, {"code": "b", "name_vi": "B", "min": 60},
          {"code": "c", "name_vi": "C", "min": 0}], "band b: min must be lower"),
        ([{"code": "a", "name_vi": "A", "min": 50}], "last band's min must be 0"),
        ([{"code": "a", "name_vi": "A", "min": "x"}], "min is not a number"),
        ([{"code": "a", "min": 0}], "code and name_vi are required"),
        ([{"code": "a", "name_vi": "A", "min": 10}, {"code": "a", "name_vi": "B", "min": 0}], "unique"),
        ([], "at least one band"),
    ],
)  # fmt: skip
def test_bands_from_config_errors(config: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bands_from_config(config)
