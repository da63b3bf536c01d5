"""Figures in quotes: which numbers a quote gives in digits, as the figure checks read them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.citations import digits_in, find_quote, normalize, number_in

# The pattern as first written, look-behinds first; `digits_in` uses an equivalent spelling
# that the regular-expression engine searches five times as fast.
PLAIN = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?!\d)|(?<![\d.,])\d+(?![\d,]\d)")


@pytest.mark.parametrize("text, numbers", [
    ("four rockets, 8 dead", {8}),
    ("about 2,500 troops", {2500}),
    ("1,000,000 dollars", {1000000}),
    ("a 1.5 kg shell", {1}),  # the whole part of a decimal
    ("on 20 December 2020", {20, 2020}),
    ("3,50", set()),
    ("room 101,", {101}),
    ("٣ rockets", {3}),  # Arabic-Indic digits are digits to int() too
    ("", set()),
])
def test_figures_in_digits(text, numbers):
    assert digits_in(text) == numbers


@settings(max_examples=400, deadline=None, database=None)
@given(st.text(alphabet="0123456789,. a-٣\n", max_size=30))
def test_the_fast_pattern_finds_what_the_plain_one_finds(text):
    assert digits_in(text) == {int(m.replace(",", "")) for m in PLAIN.findall(text)}


def test_figures_in_words_count_too():
    assert number_in(4, "four rockets were fired")
    assert number_in(2500, "2,500 troops")
    assert not number_in(5, "four rockets were fired")


@pytest.mark.parametrize("quote", ["four rockets ... the convoy", "four rockets … the convoy",
                                   "four rockets [...] the convoy", "four rockets [ ... ] the convoy"])
def test_each_form_of_ellipsis_stands_for_a_gap(quote):
    text = normalize("In operation 2, four rockets were fired at the convoy in Dortelsha")
    assert find_quote(quote, text) is not None
    assert find_quote(quote, text, allow_gaps=False) is None


def test_a_quote_without_ellipsis_must_stand_whole():
    text = normalize("four rockets were fired at the convoy")
    assert find_quote("rockets were fired", text) is not None
    assert find_quote("rockets fired", text) is None
