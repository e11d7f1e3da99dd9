from decimal import Decimal

import pytest

from bot.scoring.bands import DEFAULT_BANDS, bands_from_config, grade


@pytest.mark.parametrize(
    ("index", "code"),
    [
        ("100", "xuat_sac"),
        ("90", "xuat_sac"),
        ("89.999", "xuat_sac"),  # published "90,00": the class follows the published value
        ("89.995", "xuat_sac"),
        ("89.99499", "tot"),  # published "89,99"
        ("80", "tot"),
        ("79.995", "tot"),
        ("79.99", "kha"),
        ("79.994", "kha"),
        ("65", "kha"),
        ("64.99", "trung_binh"),
        ("50", "trung_binh"),
        ("49.99", "yeu"),
        ("0", "yeu"),
    ],
)
def test_default_bands_from_seed_001(index: str, code: str) -> None:
    assert grade(Decimal(index)).band.code == code


def test_seed001_don_vi_xuat_sac_tu_90_den_100_diem_on_the_published_index() -> None:
    """Seed 001: "Đơn vị xuất sắc: Từ 90 đến 100 điểm" — 89.996 is published "90,00" and a person
    reading "90,00" must read Xuất sắc next to it (docs/criteria.md, rounding rule)."""
    graded = grade(Decimal("89.996"))
    assert (graded.published, graded.band.name_vi) == (Decimal("90.00"), "Xuất sắc")
    assert graded.index == Decimal("89.996")  # ranking order still uses full precision
    assert grade(Decimal("64.995")).band.name_vi == "Khá"
    assert grade(Decimal("0.004")).published == Decimal("0.00")


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
    assert grade(Decimal("85.5"), bands).band.code == "b"


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
