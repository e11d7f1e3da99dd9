from decimal import Decimal

from bot.scoring.ranking import RankEntry, awards, rank_group

D = Decimal


def _entries() -> list[RankEntry]:
    return [
        RankEntry(1, "Sở Y tế", D("85.02")),
        RankEntry(2, "Sở Nội vụ", D("90.02")),
        RankEntry(3, "Văn phòng UBND tỉnh", D("90.02")),
        RankEntry(4, "Sở Tư pháp", D("94.49")),
        RankEntry(5, "Sở Tài chính", D("97.1"), ranked=False, reason="Tài liệu kiểm chứng không trung thực"),
        RankEntry(6, "Sở Xây dựng", D("70")),
    ]


def test_equal_indexes_share_a_rank() -> None:
    rows = rank_group(_entries())
    assert [(r.rank, r.unit_id) for r in rows] == [(1, 4), (2, 2), (2, 3), (4, 1), (5, 6), (None, 5)]
    assert [r.band.code if r.band else None for r in rows] == ["xuat_sac", "xuat_sac", "xuat_sac", "tot",
                                                                "kha", None]  # fmt: skip
    unranked = rows[-1]
    assert (unranked.ranked, unranked.reason, unranked.index, unranked.published) == (
        False,
        "Tài liệu kiểm chứng không trung thực",
        D("97.1"),
        D("97.10"),
    )


def test_full_precision_decides() -> None:
    rows = rank_group([RankEntry(1, "A", D("90.0200001")), RankEntry(2, "B", D("90.02"))])
    assert [(r.rank, r.unit_id) for r in rows] == [(1, 1), (2, 2)]


def test_tie_break() -> None:
    entries = [
        RankEntry(1, "A", D(90), tie_break=D(10)),
        RankEntry(2, "B", D(90), tie_break=D(12)),
        RankEntry(3, "C", D(90)),
        RankEntry(4, "D", D(90), tie_break=D(12)),
    ]
    assert [(r.rank, r.unit_id) for r in rank_group(entries, use_tie_break=True)] == [
        (1, 2),
        (1, 4),
        (3, 1),
        (4, 3),
    ]
    assert {r.rank for r in rank_group(entries)} == {1}


def test_awards_top_n_with_threshold() -> None:
    rows = rank_group(_entries())
    assert [r.unit_id for r in awards(rows, top_n=4).proposed] == [4, 2, 3]  # 85.02 is under 90
    two = awards(rows, top_n=2)  # the tie at rank 2 crosses the cap: the council decides
    assert ([r.unit_id for r in two.proposed], [r.unit_id for r in two.council], two.seats) == (
        [4],
        [2, 3],
        1,
    )
    assert [r.unit_id for r in awards(rows, top_n=1).proposed] == [4]
    assert awards(rows, top_n=2, threshold=D(95)).proposed == []  # the not-ranked 97.1 gets no award


def test_not_ranked_sorted_by_index_and_units_without_result_last() -> None:
    rows = rank_group(
        [
            RankEntry(1, "A", D(50), ranked=False),
            RankEntry(3, "C", None, ranked=False, reason="draft"),
            RankEntry(2, "B", D(60), ranked=False),
        ]
    )
    assert [(r.rank, r.unit_id) for r in rows] == [(None, 2), (None, 1), (None, 3)]
    assert (rows[-1].index, rows[-1].published, rows[-1].band, rows[-1].has_result) == (
        None,
        None,
        None,
        False,
    )
