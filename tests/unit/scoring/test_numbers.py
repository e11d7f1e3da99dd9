from decimal import Decimal

import pytest

from bot.scoring.numbers import InputError, ParsedNumber, parse_count, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0,5", "0.5"),
        ("1.5", "1.5"),
        (" 2 ", "2"),
        ("\u00a02,25\u00a0", "2.25"),
        (",5", "0.5"),
        ("0.125", "0.125"),
        ("1,234", "1.234"),  # Vietnamese decimal comma
        ("1.234", "1234"),  # Vietnamese thousands dot
        ("12.500", "12500"),
        ("1.234.567", "1234567"),
        ("1.234,5", "1234.5"),
        ("1.2345", "1.2345"),
        ("０,５", "0.5"),  # full-width digits from some phone keyboards
    ],
)
def test_plain_numbers(text: str, value: str) -> None:
    parsed = parse_number(text)
    assert parsed.value == Decimal(value)
    assert not parsed.percent
    assert parsed.denominator is None


@pytest.mark.parametrize(("text", "value"), [("90%", "90"), ("90,5 %", "90.5"), ("0.5%", "0.5")])
def test_percentages(text: str, value: str) -> None:
    parsed = parse_number(text)
    assert parsed == ParsedNumber(value=Decimal(value), percent=True)


@pytest.mark.parametrize("text", ["45/50", "45 / 50", " 45/ 50 "])
def test_ratios(text: str) -> None:
    parsed = parse_number(text)
    assert parsed.value == Decimal("0.9")
    assert parsed.numerator == 45
    assert parsed.denominator == 50
    assert parsed.raw() == "45/50"


def test_raw_is_normalized() -> None:
    assert parse_number("90,5 %").raw() == "90.5%"
    assert parse_number("1,50").raw() == "1.5"
    assert parse_number("1.234,5").raw() == "1234.5"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not_a_number"),
        ("1e5", "not_a_number"),
        ("1 234", "not_a_number"),
        ("+1", "not_a_number"),
        ("NaN", "not_a_number"),
        ("45/50%", "not_a_number"),
        ("1/2/3", "not_a_number"),
        ("%", "not_a_number"),
        ("5.", "not_a_number"),
        ("9" * 41, "not_a_number"),
        ("-1", "negative"),
        ("−0,5", "negative"),
        ("1/-2", "negative"),
        ("-5%", "negative"),
        ("-abc", "not_a_number"),
        ("1,234,5", "bad_thousands"),
        ("1,234.5", "bad_thousands"),
        ("1.23.4", "bad_thousands"),
        ("50/0", "zero_denominator"),
        ("0/0,0", "zero_denominator"),
    ],
)
def test_errors(text: str, code: str) -> None:
    with pytest.raises(InputError) as info:
        parse_number(text)
    assert info.value.code == code
    assert str(info.value).endswith(".")


def test_error_messages_are_sentences_with_params() -> None:
    error = InputError("over_max", {"max": "2"})
    assert str(error) == "The value is above the maximum of 2."
    assert error.params == {"max": "2"}
    assert isinstance(error, ValueError)
    assert str(InputError("not_on_step", {"step": "0.25"})) == "Points must be a multiple of 0.25."


@pytest.mark.parametrize(("text", "count"), [("3", 3), ("3,0", 3), ("1.000", 1000), ("0", 0)])
def test_counts(text: str, count: int) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["2,5", "50%", "1/2"])
def test_counts_must_be_whole(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_count(text)
    assert info.value.code == "not_integer"
