"""Placing a page nothing printed on it identifies by its neighbours in the
file (assembly.placement): hand-made stacks."""

from __future__ import annotations

from dataclasses import replace

from sipas_scan.assembly.placement import StackPage, disputed, place

SURVEY = "sipas-household"


def _read(index: int, serial: str, page_no: int) -> StackPage:
    return StackPage(100 + index, index, "ok", "", SURVEY, serial, page_no)


def _unplaced(index: int, page_no: int, digits: tuple[str, ...] = ()) -> StackPage:
    return StackPage(100 + index, index, "quarantined", "no-code", SURVEY, "", page_no, digits)


def _unknown(index: int, *likely: tuple[str, int]) -> StackPage:
    """A page whose page is not known either: only what its print looks like."""
    return StackPage(100 + index, index, "quarantined", "no-code", "", "", 0, (), likely)


def _blank(index: int) -> StackPage:
    return StackPage(100 + index, index, "quarantined", "blank-page", "", "", 0)


def _placed(stack: list[StackPage], read: set[tuple[str, str, int]] | None = None) -> list[tuple[int, str, int, str]]:
    known = {(p.survey, p.serial, p.page_no) for p in stack if p.status == "ok"} if read is None else read
    return [(p.page_id, p.serial, p.page_no, p.neighbours) for p in place(stack, known, "stack.pdf")]


def test_a_page_after_the_page_before_it_joins_that_form():
    stack = [_read(0, "0000018", 1), _read(1, "0000018", 2), _unplaced(2, 3), _read(3, "0000026", 1)]
    assert _placed(stack) == [(102, "0000018", 3, "after page 2 (stack.pdf p. 2)")]


def test_a_first_page_joins_the_form_whose_page_2_follows():
    stack = [_read(0, "0000018", 4), _unplaced(1, 1), _read(2, "0000026", 2)]
    assert _placed(stack) == [(101, "0000026", 1, "before page 2 (stack.pdf p. 3)")]


def test_a_page_between_two_pages_of_one_form_with_a_gap():
    stack = [_read(0, "0000018", 1), _unplaced(1, 3), _read(2, "0000018", 4)]
    assert _placed(stack) == [(101, "0000018", 3, "between pages 1 and 4 (stack.pdf p. 1; stack.pdf p. 3)")]
    # Both are shown to the person who confirms it.
    assert place(stack, set(), "stack.pdf")[0].beside == (100, 102)


def test_blank_back_sides_between_do_not_count():
    stack = [_read(0, "0000018", 2), _blank(1), _unplaced(2, 3), _blank(3), _read(4, "0000018", 4)]
    assert [p[:3] for p in _placed(stack)] == [(102, "0000018", 3)]


def test_two_forms_claiming_the_page_leave_it_for_a_person():
    # Page 2 after form A's page 1 and before form B's page 3: either could be its form.
    stack = [_read(0, "0000018", 1), _unplaced(1, 2), _read(2, "0000026", 3)]
    assert _placed(stack) == []


def test_neighbours_that_are_not_next_to_it_in_page_order_say_nothing():
    stack = [_read(0, "0000018", 4), _unplaced(1, 2), _read(2, "0000026", 4)]
    assert _placed(stack) == []


def test_a_page_swapped_with_the_next_joins_the_form_of_the_page_before_it():
    # Pages in the order 1 2 4 3: page 3 after page 4 of its form.
    stack = [_read(0, "0000018", 4), _unplaced(1, 3), _read(2, "0000026", 1)]
    assert _placed(stack) == [(101, "0000018", 3, "after page 4 (stack.pdf p. 1)")]
    # ... and page 2 before page 1 of its form.
    stack = [_read(0, "0000018", 4), _unplaced(1, 1), _read(2, "0000026", 2)]
    assert [p[:3] for p in _placed(stack)] == [(101, "0000026", 1)]
    stack = [_read(0, "0000010", 4), _unplaced(1, 2), _read(2, "0000026", 1)]
    assert _placed(stack) == [(101, "0000026", 2, "before page 1 (stack.pdf p. 3)")]


def test_two_pages_of_one_form_round_it_in_any_order_give_that_form():
    # A stack out of order: pages 1, 3, 2 of one form.
    stack = [_read(0, "0000018", 1), _unplaced(1, 3), _read(2, "0000018", 2)]
    assert _placed(stack) == [(101, "0000018", 3, "between pages 1 and 2 (stack.pdf p. 1; stack.pdf p. 3)")]


def test_a_neighbour_whose_serial_the_page_read_a_digit_off_gives_its_form():
    stack = [_read(0, "0001396", 4), _unplaced(1, 2, ("0001306", "")), _read(2, "0001404", 4)]
    assert _placed(stack) == [(101, "0001396", 2, "beside page 4 (stack.pdf p. 1); its printed serial read 0001306")]
    # Without those digits the page after and the page before give nothing.
    assert _placed([*stack[:1], _unplaced(1, 2), *stack[2:]]) == []


def test_a_form_that_has_the_page_already_does_not_take_it():
    stack = [_read(0, "0000018", 2), _unplaced(1, 3), _read(2, "0000026", 1)]
    read = {(SURVEY, "0000018", 2), (SURVEY, "0000018", 3), (SURVEY, "0000026", 1)}
    assert [p[:3] for p in _placed(stack, read)] == [(101, "0000026", 3)]
    assert _placed(stack, read | {(SURVEY, "0000026", 3)}) == []


def test_the_only_form_beside_it_without_the_page_takes_it():
    # Measured on a hard stack: page 1 of form 0003244 between page 4 of
    # 0003236 (its page 1 read) and pages 3 and 2 of 0003244.
    stack = [_read(0, "0003236", 4), _unplaced(1, 1), _read(2, "0003244", 3), _read(3, "0003244", 2)]
    read = {(SURVEY, "0003236", n) for n in (1, 2, 3, 4)} | {(SURVEY, "0003244", n) for n in (2, 3, 4)}
    assert _placed(stack, read) == [(101, "0003244", 1, "next to page 3 (stack.pdf p. 3), the only form beside it without this page")]
    # Both forms beside it lack the page: either could be its form.
    assert _placed(stack, read - {(SURVEY, "0003236", 1)}) == []
    # Neither lacks it: a second copy of one of them, for a person.
    assert _placed(stack, read | {(SURVEY, "0003244", 1)}) == []
    # A stray sheet or a back side between does not hide the form's page.
    stray = StackPage(101, 1, "quarantined", "not-a-form", "", "", 0)
    stack = [_read(0, "0000752", 3), stray, _unplaced(2, 4), _read(3, "0000760", 1)]
    read = {(SURVEY, "0000752", n) for n in (1, 2, 3)} | {(SURVEY, "0000760", n) for n in (1, 2, 3, 4)}
    assert [p[:3] for p in _placed(stack, read)] == [(102, "0000752", 4)]
    # Its own printed serial naming another form still forbids it.
    stack[2] = _unplaced(2, 4, ("0000091",))
    assert _placed(stack, read) == []


def test_a_page_not_identified_beside_it_is_no_border_between_forms():
    # Measured on a hard stack: form A's pages 3 and 2, then page 1 of form
    # B and page 4 of A, neither identified, then B's pages 2, 4 (not
    # identified either) and 3. B's page 4 lies between its pages; B's page
    # 1 is B's (A has its page 1); A's page 4, with B's unread page 1 before
    # it, is A's only because B's own page 4 was placed first.
    stack = [_read(0, "0003970", 3), _read(1, "0003970", 2), _unplaced(2, 1), _unplaced(3, 4), _read(4, "0003988", 2)]
    stack += [_unplaced(5, 4), _read(6, "0003988", 3)]
    read = {(SURVEY, "0003970", n) for n in (1, 2, 3)} | {(SURVEY, "0003988", n) for n in (2, 3)}
    placed = [p[:3] for p in _placed(stack, read)]
    assert placed == [(105, "0003988", 4), (102, "0003988", 1), (103, "0003970", 4)]
    # Without B's page 4 in the stack, A's page 4 could be either form's.
    assert [p[:3] for p in _placed(stack[:5], read)] == [(102, "0003988", 1)]


def test_a_page_of_unknown_number_takes_the_one_page_the_form_beside_it_lacks():
    likely = [(SURVEY, 4), (SURVEY, 3), (SURVEY, 1), (SURVEY, 2)]
    stack = [_read(0, "0001479", 3), _unknown(1, *likely), _read(2, "0001487", 2)]
    read = {(SURVEY, "0001479", n) for n in (2, 3, 4)} | {(SURVEY, "0001487", n) for n in (1, 2, 3, 4)}
    [placement] = place(stack, read, "stack.pdf")
    # Read again as that page, and placed only if it aligns as it.
    assert (placement.serial, placement.page_no, placement.unread) == ("0001479", 1, True)
    # A form lacking two pages does not say which this one is.
    assert _placed(stack, read - {(SURVEY, "0001479", 2)}) == []


def test_of_two_forms_beside_it_the_one_lacking_the_page_takes_it():
    # Page 3 after form A's page 4 and before form B's page 2: A has its page 3.
    stack = [_read(0, "0000018", 3), _read(1, "0000018", 4), _unplaced(2, 3), _read(3, "0000026", 2)]
    assert _placed(stack) == [(102, "0000026", 3, "before page 2 (stack.pdf p. 4)")]
    # Neither has it: either could be its form, a person places it.
    assert _placed(stack, {(SURVEY, "0000018", 4), (SURVEY, "0000026", 2)}) == []


def test_two_unplaced_pages_never_fill_one_page_of_a_form():
    stack = [_read(0, "0000018", 2), _unplaced(1, 3), _unplaced(2, 3)]
    assert [p[:3] for p in _placed(stack)] == [(101, "0000018", 3)]


def test_the_serial_digits_read_on_the_page_must_not_name_another_form():
    stack = [_read(0, "0000018", 2), _unplaced(1, 3, ("0000091",)), _read(2, "0000026", 1)]
    assert _placed(stack) == []
    # One digit misread is no contradiction: the toner bled one digit.
    stack = [_read(0, "0000018", 2), _unplaced(1, 3, ("0000013", "")), _read(2, "0000026", 1)]
    assert [p[:3] for p in _placed(stack)] == [(101, "0000018", 3)]
    # Digits that fail their check digit are a misreading, not another
    # serial, however far off (0000999 read for 0000398 on a coarse scan):
    # the person who confirms is told what they read.
    stack = [_read(0, "0000398", 2), _unplaced(1, 3, ("0000999", "")), _read(2, "0000406", 1)]
    assert _placed(stack) == [
        (101, "0000398", 3, "after page 2 (stack.pdf p. 1); its printed serial read 0000999 (fails its check digit)")
    ]


def test_serial_lines_that_disagree_place_a_page_only_where_one_reads_the_neighbours_serial():
    # Measured on a hard stack: page 4 of form 0003558 fed between its pages
    # 2 and 3, its header read 0003558 and its footer 0009969 (both pass
    # their check digit): the footer is the misread one.
    stack = [_read(0, "0003558", 2), StackPage(101, 1, "quarantined", "no-code", SURVEY, "", 4, ("0003558", "0009969"))]
    stack.append(_read(2, "0003558", 3))
    assert _placed(stack) == [
        (101, "0003558", 4, "between pages 2 and 3 (stack.pdf p. 1; stack.pdf p. 3); its other printed serial line read 0009969")
    ]
    # Two lines naming two other forms: nothing is placed.
    stack[1] = StackPage(101, 1, "quarantined", "no-code", SURVEY, "", 4, ("0000596", "0009696"))
    assert _placed(stack) == []


def test_a_page_of_unknown_number_or_another_quarantine_is_not_placed():
    stack = [_read(0, "0000018", 2), _unplaced(1, 0), _read(2, "0000018", 4)]
    assert _placed(stack) == []
    forged = StackPage(101, 1, "quarantined", "forged-code", SURVEY, "", 3)
    assert _placed([_read(0, "0000018", 2), forged, _read(2, "0000018", 4)]) == []
    declined = StackPage(101, 1, "quarantined", "placement-declined", SURVEY, "", 3)
    assert _placed([_read(0, "0000018", 2), declined, _read(2, "0000018", 4)]) == []


def test_a_neighbour_of_another_survey_says_nothing():
    other = StackPage(100, 0, "ok", "", "sipas-national-2023", "0000018", 2)
    assert _placed([other, _unplaced(1, 3)]) == []


def test_a_page_of_unknown_number_is_the_page_of_its_neighbours_survey_it_looks_most_like():
    other = ("sipas-national-2023", 1)
    stack = [_read(0, "0000018", 1), _unknown(1, other, (SURVEY, 2), (SURVEY, 4)), _read(2, "0000018", 3)]
    [placement] = place(stack, {(SURVEY, "0000018", 1), (SURVEY, "0000018", 3)}, "stack.pdf")
    assert (placement.survey, placement.serial, placement.page_no, placement.unread) == (SURVEY, "0000018", 2, True)
    # Looking most like a page its neighbours do not call for, it is not placed.
    stack = [_read(0, "0000018", 4), _unknown(1, (SURVEY, 3), (SURVEY, 1)), _read(2, "0000026", 4)]
    assert _placed(stack) == []
    # Nor when the form has that page already.
    stack = [_read(0, "0000018", 1), _unknown(1, (SURVEY, 2)), _read(2, "0000018", 2)]
    assert _placed(stack) == []


def test_a_second_copy_of_a_page_read_in_the_file_is_placed_nowhere():
    # Measured on a hard stack: page 3 of form 0002055 fed twice, the second
    # copy unread, just before form 0002063, whose page 3 never reached the
    # scanner: the only form beside it lacking a page 3, but the page's
    # answers are those of 0002055's page 3.
    stack = [_read(0, "0002055", 3), _read(1, "0002055", 4), _unplaced(2, 3), _read(3, "0002063", 1), _read(4, "0002063", 2)]
    read = {(SURVEY, "0002055", n) for n in (1, 2, 3, 4)} | {(SURVEY, "0002063", n) for n in (1, 2, 4)}
    first = {"c4_1": "5", "c4_2": "4", "c4_3": "3;4", "c4_4": "5", "e1": "1;6", "d1": "2", "d2": "3", "d3": "4"}
    copy = {**first, "c4_3": "4"}  # one faint mark read otherwise
    other = {"c4_1": "4", "c4_2": "4", "c4_3": "2", "c4_4": "3", "e1": "8", "d1": "1", "d2": "3", "d3": "5"}
    assert place(stack, read, "stack.pdf", {100: first, 102: copy}) == []
    # Another respondent's page 3 agrees by chance on two of eight: it is placed.
    [placement] = place(stack, read, "stack.pdf", {100: first, 102: other})
    assert (placement.serial, placement.page_no) == ("0002063", 3)
    # Too few answers on either to tell: placed as before.
    assert len(place(stack, read, "stack.pdf", {100: {"d1": "2"}, 102: {"d1": "2"}})) == 1
    # Measured on a hard stack: page 1 of 0002550, unread, just before its
    # page 2, after form 0002543 (whose page 1 lies earlier in the file).
    # The two respondents' page 1 agreed on 4 of its 5 questions: too few
    # to call it a copy, it is 0002550's.
    stack = [_read(0, "0002543", 1), _read(1, "0002543", 4), _unplaced(2, 1), _read(3, "0002550", 2)]
    page_1 = {"a1": "2", "a2": "8", "a3": "1", "a4": "4", "a5": "2"}
    assert [p.serial for p in place(stack, read, "stack.pdf", {100: page_1, 102: {**page_1, "a4": "2"}})] == ["0002550"]
    # Nor does a rule of order place a copy: page 3 just before page 2 of the next form.
    stack = [_read(0, "0002055", 3), _unplaced(1, 3), _read(2, "0002063", 2), _read(3, "0002063", 1)]
    assert [p.serial for p in place(stack, read, "stack.pdf", {100: first, 101: other})] == ["0002063"]
    assert place(stack, read, "stack.pdf", {100: first, 101: copy}) == []


def _by_print(index: int, serial: str, page_no: int) -> StackPage:
    """A page read, identified only by the serial printed on it."""
    return replace(_read(index, serial, page_no), by_print=True)


def _disputed(stack: list[StackPage], read: set[tuple[str, str, int]] | None = None) -> list[int]:
    known = {(p.survey, p.serial, p.page_no) for p in stack if p.status == "ok"} if read is None else read
    return [page_id for page_id, _ in disputed(stack, known, "stack.pdf")]


def test_a_printed_serial_inside_another_form_lacking_the_page_is_disputed():
    # Hard seed 71: page 2 of 0002808, between its pages 1 and 3, its printed
    # serial misread as 0002006 (a valid serial, whose own page 2 was unread).
    stack = [_read(0, "0002808", 1), _by_print(1, "0002006", 2), _read(2, "0002808", 3)]
    [(page_id, why)] = disputed(stack, {(SURVEY, "0002808", 1), (SURVEY, "0002808", 3)}, "stack.pdf")
    assert page_id == 101
    assert why == (
        "its printed serial reads 0002006, but it lies between pages 1 and 3 of form 0002808"
        " (stack.pdf p. 1; stack.pdf p. 3), which has no page 2"
    )
    # Back sides between are passed over.
    assert _disputed([_read(0, "0002808", 1), _blank(1), _by_print(2, "0002006", 2), _blank(3), _read(4, "0002808", 3)]) == [102]


def test_a_printed_serial_the_stack_does_not_contradict_stands():
    inside = [_read(0, "0002808", 1), _by_print(1, "0002006", 2), _read(2, "0002808", 3)]
    # The form round it has its page 2 already: the page is another form's
    # (pages of two forms interleaved), as its print says.
    assert _disputed(inside, {(SURVEY, "0002808", n) for n in (1, 2, 3)}) == []
    # Its code verified: a signed code is not contradicted by order.
    assert _disputed([inside[0], replace(inside[1], by_print=False), inside[2]]) == []
    # Neighbours of two forms, or of its own form, or only one neighbour.
    assert _disputed([_read(0, "0002808", 1), _by_print(1, "0002006", 2), _read(2, "0002816", 1)]) == []
    assert _disputed([_read(0, "0002006", 1), _by_print(1, "0002006", 2), _read(2, "0002006", 3)]) == []
    assert _disputed([_by_print(0, "0002006", 2), _read(1, "0002808", 3)]) == []
    # A neighbour not read says nothing of the form round it.
    assert _disputed([_read(0, "0002808", 1), _by_print(1, "0002006", 2), _unplaced(2, 3)]) == []
    # A page of the form its print names close by: two forms interleaved
    # (hard seed 23: 2 1 3 of one form, page 1 of the next, then the first's
    # page 4, then the next's pages 2 and 3).
    interleaved = [_read(0, "0001602", 2), _read(1, "0001602", 1), _read(2, "0001602", 3), _read(3, "0001610", 1)]
    interleaved += [_by_print(4, "0001602", 4), _read(5, "0001610", 2), _read(6, "0001610", 3)]
    assert _disputed(interleaved) == []
    assert _disputed(interleaved[3:]) == [104]
