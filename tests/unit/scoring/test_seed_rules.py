"""The seed documents' rules, each in a test named after the sentence it implements (the scoring
core's part; the services' part is in tests/services/test_seed_rules.py)."""

from __future__ import annotations

from decimal import Decimal

from bot.criteria import shipped_path
from bot.scoring.bands import grade
from bot.scoring.gaps import compare, group_averages, item_gaps, item_indexes
from bot.scoring.loader import load_criteria_set, summary
from bot.scoring.model import CriteriaSet, SurveyRule
from bot.scoring.ranking import RankEntry, awards, rank_group
from bot.scoring.sheet import Basis, LeafScore, Part, compute_sheet

D = Decimal


def _ranked(*indexes: str) -> list[RankEntry]:
    return [RankEntry(n, f"Sở {n}", D(value)) for n, value in enumerate(indexes, start=1)]


def test_seed001_so_ban_nganh_tang_bang_khen_cho_khong_qua_04_don_vi() -> None:
    """ "Các sở, ban, ngành: Tặng Bằng khen cho không quá 04 đơn vị có Chỉ số cải cách hành chính
    cao nhất": 95, 93, 91, 90, 90 with N = 4 proposes three; the two 90s go to the council for the
    one seat left, instead of five proposals."""
    rows = rank_group(_ranked("95", "93", "91", "90", "90", "88"))
    chosen = awards(rows, top_n=4)
    assert [r.published for r in chosen.proposed] == [D("95.00"), D("93.00"), D("91.00")]
    assert [r.unit_id for r in chosen.council] == [4, 5] and chosen.seats == 1
    assert len(chosen.proposed) <= 4
    clear = awards(rank_group(_ranked("95", "93", "91", "90", "89")), top_n=4)
    assert [r.unit_id for r in clear.proposed] == [1, 2, 3, 4] and clear.council == []


def test_seed001_ubnd_huyen_tang_bang_khen_cho_khong_qua_02_don_vi() -> None:
    """ "UBND các huyện, thành phố: Tặng Bằng khen cho không quá 02 đơn vị": never a third."""
    chosen = awards(rank_group(_ranked("97", "96", "96", "92")), top_n=2)
    assert [r.unit_id for r in chosen.proposed] == [1]
    assert [r.unit_id for r in chosen.council] == [2, 3] and chosen.seats == 1
    tie_at_top = awards(rank_group(_ranked("97", "97", "97")), top_n=2)
    assert tie_at_top.proposed == [] and len(tie_at_top.council) == 3 and tie_at_top.seats == 2


def test_seed001_phai_dat_chi_so_tu_90_diem_tro_len_and_a_configured_zero_is_honoured() -> None:
    """ "Các cơ quan, đơn vị được UBND tỉnh xem xét khen thưởng phải đạt Chỉ số cải cách hành chính
    từ 90 điểm trở lên", on the published index (89.996 is published 90,00); N = 0 proposes
    nobody, threshold 0 accepts every index."""
    rows = rank_group(_ranked("89.996", "89.99", "50"))
    assert [r.unit_id for r in awards(rows, top_n=4).proposed] == [1]
    assert awards(rows, top_n=0).proposed == [] and awards(rows, top_n=0).council == []
    assert [r.unit_id for r in awards(rows, top_n=4, threshold=D(0)).proposed] == [1, 2, 3]


def test_seed001_don_vi_xuat_sac_tu_90_den_100_diem_shown_and_classed_alike() -> None:
    """ "Đơn vị xuất sắc: Từ 90 đến 100 điểm; Đơn vị tốt: Từ 80 đến dưới 90 điểm": the class is
    the published value's, so "90,00" is never shown next to "Tốt"; ranks stay full precision."""
    rows = rank_group(_ranked("89.996", "89.995", "89.994"))
    assert [(r.rank, r.published, r.band.name_vi if r.band else None) for r in rows] == [
        (1, D("90.00"), "Xuất sắc"),
        (2, D("90.00"), "Xuất sắc"),
        (3, D("89.99"), "Tốt"),
    ]
    assert grade(D("79.995")).band.name_vi == "Tốt"


def test_seed001_tong_diem_toi_da_la_100_diem_appraised_in_the_2018_samples() -> None:
    """ "Điểm thẩm định/Tổng điểm tối đa = Chỉ số CCHC … Tổng điểm tối đa là: 100 điểm": the 2018
    samples have no survey item; 100 points are appraised, fields 17/15/18/8/18/6/18."""
    for code in ("2018-so", "2018-huyen"):
        cs = load_criteria_set(shipped_path(code))
        assert not any(isinstance(leaf.rule, SurveyRule) for _f, _c, leaf in cs.leaves()), code
        assert [f.max_points for f in cs.fields] == [17, 15, 18, 8, 18, 6, 18]
        assert summary(cs)["max_points"] == "100"
        full = {leaf.code: LeafScore(final=leaf.max_points) for _f, _c, leaf in cs.leaves()}
        sheet = compute_sheet(cs, full, Basis.FINAL)
        assert (sheet.appraised.applicable_max, sheet.survey.applicable_max, sheet.index) == (100, 0, 100)


def test_seed003_khong_danh_gia_xep_hang_no_rank_no_class_score_apart() -> None:
    """Seed 003: "UBND tỉnh không đánh giá, xếp hạng kết quả Chỉ số CCHC … những cơ quan, đơn vị có
    phát hiện thiếu trung thực": the unit keeps its index, shown apart with the reason, without a
    rank or a class; the units after it keep consecutive ranks."""
    entries = [
        *_ranked("80", "70"),
        RankEntry(9, "Sở X", D("95"), ranked=False, reason="not_ranked: gian dối"),
    ]
    rows = rank_group(entries)
    flagged = rows[-1]
    assert (flagged.rank, flagged.band, flagged.published, flagged.reason) == (
        None,
        None,
        D("95.00"),
        "not_ranked: gian dối",
    )
    assert [(r.unit_id, r.rank) for r in rows if r.ranked] == [(1, 1), (2, 2)]
    assert awards(rows, top_n=4, threshold=D(0)).proposed == rows[:2]


def test_seed003_so_noi_vu_tong_hop_ket_qua_dieu_tra_xa_hoi_hoc_pending_until_entered(
    cs: CriteriaSet,
) -> None:
    """Seed 003: "Tổng hợp kết quả điều tra xã hội học" is Sở Nội vụ's: until it has entered a
    unit's survey result, the survey item is out of both sums on every basis (not a 0), and the
    sheet says how many points are pending; once entered it is in both."""
    own = {code: LeafScore(self_points=D(1)) for code in ("1.1.1", "1.1.2", "1.3")}
    for basis in Basis:
        pending = compute_sheet(cs, own, basis)
        assert pending.survey_pending_max == 2 and pending.survey == Part(D(0), D(0))
        assert pending.applicable_max == 14 and pending.leaves["2.3"].pending
        entered = compute_sheet(cs, {**own, "2.3": LeafScore(appraisal1=D("1.5"))}, basis)
        assert (entered.survey.points, entered.survey.applicable_max, entered.survey_pending_max) == (
            D("1.5"),
            2,
            0,
        )
        assert entered.applicable_max == 16 and entered.points == pending.points + D("1.5")
        assert (entered.appraised.points, entered.appraised.applicable_max) == (pending.points, 14)


def test_seed004_nhung_noi_dung_chua_dat_diem_so_voi_diem_chuan_toi_da(cs: CriteriaSet) -> None:
    """Seed 004: "rà soát … những nội dung chưa đạt điểm so với điểm chuẩn tối đa": the items below
    their maximum, most points lost first, never a survey item (the unit cannot act on it)."""
    sheet = compute_sheet(cs, {"1.3": LeafScore(self_points=D(1)), "2.3": LeafScore(final=D(0))})
    gaps = item_gaps(sheet)
    assert [g.lost for g in gaps] == sorted((g.lost for g in gaps), reverse=True)
    assert ("1.3", D(2)) in [(g.code, g.lost) for g in gaps]
    assert "2.3" not in {g.code for g in gaps}


def test_seed004_co_ket_qua_thap_so_voi_chi_so_trung_binh_chung_per_field_criterion_sub_criterion(
    cs: CriteriaSet,
) -> None:
    """Seed 004: "… hoặc có kết quả thấp so với chỉ số trung bình chung": every field, criterion and
    sub-criterion against the group's average."""
    mine = compute_sheet(cs, {"1.1.1": LeafScore(self_points=D("0.5"))})
    other = compute_sheet(cs, {"1.1.1": LeafScore(self_points=D(1)), "1.2.1": LeafScore(self_points=D(1))})
    field1 = compare(mine, group_averages(item_indexes(s) for s in (mine, other)))[0]
    criterion, sub = field1.children[0], field1.children[0].children[0]
    assert (field1.index, field1.group_average) == (5, D("12.5"))
    assert (criterion.code, criterion.index, criterion.group_average) == ("1.1", 10, 15)
    assert (sub.code, sub.index, sub.group_average, sub.delta_vs_group) == ("1.1.1", 50, 75, -25)
