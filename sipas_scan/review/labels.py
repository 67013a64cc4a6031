"""Every word the review app shows, in Vietnamese (default) and English.

One place, so a label is translated once and templates never hold prose.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

LABELS: dict[str, dict[str, str]] = {
    "app_title": {"vi": "SIPAS – Duyệt phiếu", "en": "SIPAS – Review"},
    "login": {"vi": "Đăng nhập", "en": "Log in"},
    "logout": {"vi": "Đăng xuất", "en": "Log out"},
    "user_name": {"vi": "Tên đăng nhập", "en": "User name"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "bad_login": {"vi": "Sai tên đăng nhập hoặc mật khẩu.", "en": "Wrong user name or password."},
    "locked": {
        "vi": "Sai mật khẩu quá nhiều lần. Hãy thử lại sau 15 phút.",
        "en": "Too many wrong passwords. Try again in 15 minutes.",
    },
    "overview": {"vi": "Tổng quan", "en": "Overview"},
    "queue": {"vi": "Hàng đợi", "en": "Queue"},
    "next_item": {"vi": "Mục tiếp theo", "en": "Next item"},
    "start_review": {"vi": "Bắt đầu duyệt (phím N)", "en": "Start reviewing (key N)"},
    "queue_empty": {"vi": "Không còn mục nào cần duyệt.", "en": "Nothing left to review."},
    "open_items": {"vi": "Mục chờ duyệt", "en": "Items waiting"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "accepted": {"vi": "Chấp nhận", "en": "Accepted"},
    "needs_review": {"vi": "Cần duyệt", "en": "To review"},
    "resolved": {"vi": "Đã duyệt", "en": "Resolved"},
    "rejected": {"vi": "Loại bỏ", "en": "Rejected"},
    # "Cách ly" reads as medical isolation and "Trang bị cách ly" as "isolation
    # equipment": these pages are held aside until a person decides.
    "quarantined_pages": {"vi": "Trang tạm giữ", "en": "Quarantined pages"},
    "by_batch": {"vi": "Theo tệp quét", "en": "By scanned batch"},
    "by_village": {"vi": "Theo thôn/bản", "en": "By village"},
    "batch": {"vi": "Tệp quét", "en": "Batch"},
    "village": {"vi": "Thôn/bản", "en": "Village"},
    "commune": {"vi": "Xã/phường", "en": "Commune"},
    "printed": {"vi": "Đã in", "en": "Printed"},
    "received": {"vi": "Đã nhận", "en": "Received"},
    "return_rate": {"vi": "Tỷ lệ thu hồi", "en": "Return rate"},
    "throughput": {"vi": "Năng suất người duyệt", "en": "Reviewers' throughput"},
    "reviewer": {"vi": "Người duyệt", "en": "Reviewer"},
    "decisions": {"vi": "Quyết định", "en": "Decisions"},
    "per_hour": {"vi": "mục/giờ", "en": "items/hour"},
    "form": {"vi": "Phiếu", "en": "Form"},
    "page": {"vi": "Trang", "en": "Page"},
    "question": {"vi": "Câu hỏi", "en": "Question"},
    "machine_read": {"vi": "Máy đọc được", "en": "The machine read"},
    "confidence": {"vi": "Độ tin cậy", "en": "Confidence"},
    "reasons": {"vi": "Lý do nghi ngờ", "en": "Why in doubt"},
    "blank": {"vi": "Để trống", "en": "Blank"},
    "confirm": {"vi": "Xác nhận (Enter)", "en": "Confirm (Enter)"},
    "skip": {"vi": "Bỏ qua (→)", "en": "Skip (→)"},
    "previous": {"vi": "Mục trước (←)", "en": "Previous (←)"},
    "whole_page": {"vi": "Xem cả trang (P)", "en": "Whole page (P)"},
    "keys_help": {
        "vi": "Phím: số (rồi a, b, c…) chọn hoặc bỏ chọn phương án, Shift thêm một dấu, 0 = để trống, "
        "Enter xác nhận lựa chọn, ← → chuyển mục, P xem cả trang.",
        "en": "Keys: digits (then a, b, c…) pick or unpick an option, Shift adds a mark, 0 = blank, "
        "Enter confirms the choice, ← → move, P opens the whole page.",
    },
    "comment_help": {
        "vi": "Sửa nội dung cho đúng chữ viết tay rồi nhấn Enter (Shift+Enter xuống dòng, Esc để dùng phím chuyển mục).",
        "en": "Correct the text to match the handwriting, then press Enter (Shift+Enter: new line; Esc: item keys).",
    },
    "ocr_text": {"vi": "Văn bản nhận dạng", "en": "Recognised text"},
    "reason_optional": {"vi": "Ghi chú (không bắt buộc)", "en": "Note (optional)"},
    "leased_by": {"vi": "Mục này đang được {who} duyệt.", "en": "{who} is reviewing this item."},
    "already_decided": {"vi": "Mục này đã được quyết định.", "en": "This item has been decided."},
    "missing_page": {
        "vi": "Thiếu trang {page}: trang này không có trong các tệp quét.",
        "en": "Page {page} is missing: it is in none of the scans.",
    },
    "not_returned": {"vi": "Ghi nhận: không được gửi lại", "en": "Record as not returned"},
    "placed_page": {
        "vi": "Không đọc được mã QR của trang {page}, và chữ in trên trang không cho biết chắc đây là trang nào của phiếu nào; "
        "máy xếp trang vào phiếu này theo vị trí của nó trong xấp. So số phiếu và nội dung trên ảnh với phiếu giấy.",
        "en": "Page {page} has no readable code, and what is printed on it does not say for certain which form's page it is; "
        "it was put in this form by where it lies in the stack. Check the serial and the answers on the image against the paper.",
    },
    "placed_confirm": {"vi": "Đúng là trang của phiếu này", "en": "It is this form's page"},
    "placed_take_out": {"vi": "Không phải trang của phiếu này: đưa ra khỏi phiếu", "en": "Not this form's page: take it out"},
    "reject_form": {"vi": "Loại bỏ cả phiếu", "en": "Reject the whole form"},
    "conflict": {
        "vi": "Trang {page} được quét hai lần với nội dung khác nhau. Chọn bản được tính.",
        "en": "Page {page} was scanned twice with different marks. Choose the scan that counts.",
    },
    "use_left": {"vi": "Dùng bản trái", "en": "Use the left scan"},
    "use_right": {"vi": "Dùng bản phải", "en": "Use the right scan"},
    "no_marks": {
        "vi": "Dấu trên trang {page} có thể đã mất khi quét. Đối chiếu với phiếu giấy (bút chì quá nhạt?).",
        "en": "Marks on page {page} may have been lost in the scan. Check it against the paper (pencil too light?).",
    },
    "answer_each": {"vi": "Trên giấy có đánh dấu: nhập từng câu", "en": "The paper has marks: answer each question"},
    "confirm_as_read": {
        "vi": "Phiếu giấy đúng như đã đọc (câu trống là để trống)",
        "en": "The paper is as read (blank questions are unanswered)",
    },
    "not_issued": {
        "vi": "Mã phiếu hợp lệ nhưng số phiếu không có trong sổ phát phiếu.",
        "en": "A valid code, but the serial is not in the ledger of issued forms.",
    },
    "two_copies": {
        "vi": "Phiếu này có hai bản được điền khác nhau (bản photo?). Xem từng trang rồi giữ hoặc loại phiếu.",
        "en": "Two differently filled copies of this form came in (a photocopy?). Check each page, then keep or reject the form.",
    },
    "unproven": {
        "vi": "Không có gì cho thấy phiếu này được in cho cuộc khảo sát: không trang nào có mã QR đọc được và số phiếu "
        "in trên trang chưa từng được phát. Phiếu chỉ có thể bị loại bỏ.",
        "en": "Nothing shows this form was printed for the survey: no page has a readable code and the serial printed "
        "on it was never issued. It can only be rejected.",
    },
    "unverified_code": {
        "vi": "Không trang nào của phiếu có mã QR đọc được: phiếu được nhận theo số phiếu in trên trang. "
        "Đối chiếu số phiếu trên giấy rồi giữ hoặc loại phiếu.",
        "en": "No page of this form has a readable code: it was identified by the serial printed on "
        "it. Check the serial on the paper, then keep or reject the form.",
    },
    "unread_copy": {
        "vi": "Trang {page} có một bản quét khác không đọc được. So sánh hai ảnh rồi chọn bản được tính.",
        "en": "Page {page} has another scan that could not be read. Compare the two, then choose the one that counts.",
    },
    "use_read": {"vi": "Dùng bản đã đọc", "en": "Use the scan that was read"},
    "keep_form": {"vi": "Giữ phiếu", "en": "Keep the form"},
    "quarantined": {"vi": "Trang tạm giữ: {reason}", "en": "Quarantined page: {reason}"},
    "reject_page": {"vi": "Loại bỏ trang", "en": "Reject the page"},
    "assign_page": {"vi": "Gán cho phiếu (đọc số phiếu trên trang)", "en": "Assign to a form (serial read off the page)"},
    "serial": {"vi": "Số phiếu", "en": "Serial"},
    "survey": {"vi": "Bộ phiếu", "en": "Survey"},
    "assign_failed": {"vi": "Không gán được: {why}", "en": "Could not assign: {why}"},
    "qc": {"vi": "Kiểm tra chất lượng", "en": "Quality control"},
    "qc_help": {
        "vi": "Nhập lại mù: người duyệt chỉ thấy ảnh, không thấy kết quả máy đọc.",
        "en": "Blind re-entry: the reviewer sees the image, not the machine's reading.",
    },
    "qc_draw": {"vi": "Rút mẫu", "en": "Draw a sample"},
    "qc_forms": {"vi": "Số phiếu trong mẫu", "en": "Forms in the sample"},
    "qc_enter": {"vi": "Nhập lại", "en": "Re-enter"},
    "qc_entered": {"vi": "Câu đã nhập lại", "en": "Answers re-entered"},
    "qc_disagree": {"vi": "Khác với máy", "en": "Disagree with the machine"},
    "qc_rate": {"vi": "Tỷ lệ sai khác (KTC 95 %)", "en": "Disagreement rate (95 % CI)"},
    "qc_done": {"vi": "Đã nhập lại hết mẫu.", "en": "The sample is fully re-entered."},
    "decision_log": {"vi": "Nhật ký quyết định", "en": "Decision log"},
    "when": {"vi": "Thời điểm", "en": "When"},
    "old_value": {"vi": "Giá trị cũ", "en": "Old value"},
    "new_value": {"vi": "Giá trị mới", "en": "New value"},
    "note": {"vi": "Ghi chú", "en": "Note"},
    "reopen": {"vi": "Mở lại", "en": "Reopen"},
    "change": {"vi": "Sửa", "en": "Change"},
    "reopened": {"vi": "(mở lại)", "en": "(reopened)"},
    "forbidden": {"vi": "Chỉ giám sát viên được làm việc này.", "en": "Only a supervisor may do this."},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "total": {"vi": "Tổng", "en": "Total"},
    "pages": {"vi": "Trang", "en": "Pages"},
    "forms": {"vi": "Phiếu", "en": "Forms"},
    "assign_reason": {
        "vi": "Lý do (giám sát viên ghi khi số phiếu in trên trang không khớp)",
        "en": "Reason (a supervisor writes it when the printed serial does not match)",
    },
    "identified_by_hand": {"vi": "Phiếu do người duyệt xác định số phiếu", "en": "Forms identified by a reviewer"},
    # Why a decision was refused (nothing was written).
    "error_not_an_answer": {
        "vi": "'{codes}' không phải là phương án trả lời của câu {question}.",
        "en": "'{codes}' is not an answer to {question}.",
    },
    "error_note_too_long": {"vi": "Ghi chú dài quá {n} ký tự.", "en": "The note is longer than {n} characters."},
    "error_text_too_long": {"vi": "Nội dung chép lại dài quá {n} ký tự.", "en": "The transcription is longer than {n} characters."},
    "error_not_a_decision": {
        "vi": "'{value}' không phải là quyết định hợp lệ cho mục này.",
        "en": "'{value}' is not a decision for this item.",
    },
    "error_assign_not_quarantined": {
        "vi": "Chỉ trang chưa xác định được thuộc phiếu nào mới gán được cho một phiếu.",
        "en": "Only a page that could not be identified can be assigned to a form.",
    },
    "error_assign_refused_code": {
        "vi": "Mã QR trên trang này đọc được nhưng không xác thực được (giả mạo, bị sửa, "
        "hoặc của cuộc khảo sát khác): trang chỉ có thể bị loại bỏ, không gán được "
        "cho phiếu nào.",
        "en": "The code on this page was read and does not verify (forged, altered, or of "
        "another survey): the page can only be rejected, never assigned to a form.",
    },
    "error_assign_fields": {
        "vi": "Hãy nhập bộ phiếu, số phiếu và số trang.",
        "en": "Give the survey, the serial and the page number.",
    },
    "error_no_survey": {"vi": "Không có bộ phiếu '{survey}'.", "en": "No survey '{survey}'."},
    "error_bad_serial": {
        "vi": "Số phiếu {serial} không hợp lệ (gồm 7 chữ số, chữ số cuối là số kiểm tra).",
        "en": "Serial {serial} is not valid (seven digits, the last a check digit).",
    },
    "error_assign_against_code": {
        "vi": "Mã QR đã xác thực của trang ghi phiếu {serial}, trang {page}: không thể gán trang cho phiếu hay trang khác.",
        "en": "The page's verified code says form {serial}, page {page}: it cannot be assigned to another form or page.",
    },
    "error_scan_unavailable": {"vi": "Không mở lại được tệp quét {path}.", "en": "Cannot open the scan {path} again."},
    "error_scan_changed": {
        "vi": "Tệp quét {path} đã bị thay đổi sau khi đọc: không gán được.",
        "en": "The scan {path} has changed since it was read: cannot assign.",
    },
    "error_reread": {
        "vi": "Không đọc lại được trang theo số phiếu này: {reason}.",
        "en": "The page could not be read under this serial: {reason}.",
    },
    "error_print_mismatch": {
        "vi": "Số phiếu in trên trang không khớp với {serial} (đọc được: {printed}). Chỉ giám sát "
        "viên, có ghi lý do, mới gán được trang này.",
        "en": "The serial printed on the page does not match {serial} (it reads: {printed}). "
        "Only a supervisor, giving a written reason, can assign this page.",
    },
    "error_reason_needed": {
        "vi": "Số phiếu in trên trang không khớp với {serial} (đọc được: {printed}). Hãy ghi lý do gán trang (ít nhất {n} ký tự).",
        "en": "The serial printed on the page does not match {serial} (it reads: {printed}). "
        "Write why you assign it (at least {n} characters).",
    },
    "error_nothing_to_reopen": {
        "vi": "Mục này không có quyết định nào đang có hiệu lực để mở lại.",
        "en": "This item has no decision in force to reopen.",
    },
    "error_taken_out_reopen": {
        "vi": "Trang đã được đưa ra khỏi phiếu và trở lại danh sách trang tạm giữ: hãy gán lại trang từ đó.",
        "en": "The page was taken out of the form and is back among the quarantined pages: assign it from there.",
    },
    "error_assigned_reopen": {
        "vi": "Trang đã gán là một phần của phiếu: hãy loại bỏ phiếu hoặc sửa câu trả lời.",
        "en": "An assigned page is part of its form now: reject the form or change its answers instead.",
    },
    # Error pages.
    "error_bad_request": {"vi": "Yêu cầu không hợp lệ.", "en": "Bad request."},
    "error_not_found": {"vi": "Không tìm thấy nội dung này.", "en": "Not found."},
    "error_too_large": {"vi": "Nội dung gửi lên quá lớn.", "en": "The request is too large."},
    "error_server": {
        "vi": "Lỗi máy chủ. Hãy thử lại; nếu vẫn lỗi, báo cho người quản trị.",
        "en": "Server error. Try again; if it persists, tell the administrator.",
    },
}

REASONS: dict[str, dict[str, str]] = {
    "faint": {"vi": "dấu mờ", "en": "faint mark"},
    "unclear-fill": {"vi": "ô tô chưa rõ", "en": "unclear fill"},
    "cancelled": {"vi": "ô tô kín (hủy)", "en": "box filled in (cancelled)"},
    "multiple": {"vi": "nhiều hơn một dấu", "en": "more than one mark"},
    "over-max": {"vi": "chọn quá số cho phép", "en": "more options than allowed"},
    "outside-box": {"vi": "khoanh ngoài ô", "en": "circled outside the box"},
    "skip-rule": {"vi": "trả lời câu không áp dụng", "en": "answered a question that does not apply"},
    "misaligned": {"vi": "ô in lệch chỗ (giấy cong?)", "en": "boxes not where expected (paper curled?)"},
    "duplicate-conflict": {"vi": "hai bản quét khác nhau", "en": "two scans disagree"},
    "ocr-review": {"vi": "cần chép lại ý kiến", "en": "comment to transcribe"},
    "missing-page": {"vi": "thiếu trang", "en": "missing page"},
    "no-marks": {"vi": "không thấy dấu trên bản quét", "en": "no marks on the scan"},
    "not-issued": {"vi": "số phiếu chưa phát", "en": "serial never issued"},
    "two-copies": {"vi": "hai bản phiếu khác nhau", "en": "two different copies"},
    "unverified-code": {"vi": "nhận theo số phiếu in", "en": "identified by the printed serial"},
    "unread-copy": {"vi": "một bản quét không đọc được", "en": "a copy that could not be read"},
    "unclear-cancel": {"vi": "ô tô kín nhưng không chọn ô khác", "en": "box filled in, no other mark"},
    "circled": {"vi": "khoanh tròn ô", "en": "box circled"},
    "faint-page": {"vi": "trang có dấu rất mờ, có thể có dấu bị mất", "en": "page of very light marks: a mark may have vanished"},
    "faded": {"vi": "nét in bị mờ mất trên bản quét", "en": "print faded from the scan"},
    "structure-not-found": {"vi": "không căn chỉnh được trang", "en": "page could not be aligned"},
    "forged-code": {"vi": "mã QR không hợp lệ (giả mạo?)", "en": "code does not verify (forged?)"},
    "no-code": {"vi": "không đọc được mã QR", "en": "no readable code"},
    "not-a-form": {"vi": "không phải trang phiếu", "en": "not a page of a form"},
    "markers-not-found": {"vi": "không thấy dấu định vị góc", "en": "corner markers not found"},
    "poor-alignment": {"vi": "trang bị cong, lệch", "en": "page bent or torn"},
    "other-survey": {"vi": "phiếu của cuộc khảo sát khác", "en": "a form of another survey"},
    "unknown-survey": {"vi": "không có định nghĩa phiếu", "en": "no such survey definition"},
    "unknown-page": {"vi": "số trang không có", "en": "no such page number"},
    "read-error": {"vi": "lỗi khi đọc trang", "en": "error reading the page"},
    "malformed-code": {"vi": "mã QR sai định dạng", "en": "malformed code"},
    "identified-by-hand": {"vi": "số phiếu do người duyệt xác định", "en": "identified by a reviewer"},
    "placed-by-stack": {"vi": "trang xếp theo vị trí trong xấp", "en": "page placed by the stack"},
    "placement-declined": {"vi": "người duyệt đưa ra khỏi phiếu", "en": "taken out of a form by a reviewer"},
    "serial-disputed": {
        "vi": "số phiếu in trên trang khác với phiếu của các trang quét liền trước và liền sau",
        "en": "its printed serial disagrees with the form of the pages scanned either side of it",
    },
}


def label(key: str, language: str, **values: str) -> str:
    text = LABELS[key].get(language) or LABELS[key][DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def reason_label(reason: str, language: str) -> str:
    known = REASONS.get(reason)
    if known:
        return known.get(language) or known[DEFAULT_LANGUAGE]
    return reason if language == "en" else label("unknown_reason", language)


def option_key(position: int) -> str:
    """The key that picks the option at ``position`` (1-based): digits 1-9,
    then letters a, b, c... for long lists (0 is blank). The same key is
    drawn beside the option's box on the crop."""
    return str(position) if position < 10 else "abcdefghijklm"[position - 10]


# ---- screens: the item, the scans, the decision log ------------------------
LABELS.update(
    {
        "role_reviewer": {"vi": "người duyệt", "en": "reviewer"},
        "role_supervisor": {"vi": "giám sát viên", "en": "supervisor"},
        "machine_blank": {"vi": "(để trống)", "en": "(blank)"},
        "machine_note": {
            "vi": "Chưa có phương án nào được chọn sẵn: hãy xem ảnh rồi tự chọn.",
            "en": "Nothing is chosen for you: look at the image, then choose.",
        },
        "chosen": {"vi": "Đã chọn", "en": "Chosen"},
        "nothing_chosen": {"vi": "Chưa chọn phương án nào: Enter chưa có tác dụng.", "en": "Nothing chosen yet: Enter does nothing."},
        "unchosen": {"vi": "Vừa bỏ chọn", "en": "Just unpicked"},
        "next_free": {"vi": "Mục tiếp theo còn trống (phím N)", "en": "Next free item (key N)"},
        "back_overview": {"vi": "Về trang tổng quan", "en": "Back to the overview"},
        "skip_rule": {
            "vi": "Câu {filter} cho biết các câu dưới đây không áp dụng, nhưng chúng đã được trả lời. Đọc lại "
            "câu {filter} trên phiếu rồi chọn câu trả lời đúng: các câu dưới đây chỉ được tính khi "
            "câu {filter} cho phép.",
            "en": "Question {filter} says the questions below do not apply, yet they were answered. Read "
            "{filter} again on the paper and choose its true answer: the questions below count only "
            "when {filter} allows them.",
        },
        "answered_anyway": {"vi": "Các câu đã được trả lời", "en": "Answered anyway"},
        "question_label": {"vi": "Câu {label}", "en": "Question {label}"},
        "scan": {"vi": "Bản quét", "en": "Scan"},
        "scan_left": {"vi": "Bản trái", "en": "Left scan"},
        "scan_right": {"vi": "Bản phải", "en": "Right scan"},
        "scan_placed": {"vi": "Trang được xếp", "en": "The page placed"},
        "scan_beside": {"vi": "Trang của phiếu nằm cạnh", "en": "The form's page beside it"},
        "scan_of": {"vi": "tệp {file}, trang {page} trong tệp", "en": "file {file}, page {page} of the file"},
        "scan_image": {"vi": "Ảnh trang {page}", "en": "Image of page {page}"},
        "assign_button": {"vi": "Gán trang", "en": "Assign the page"},
        "page_status_ok": {"vi": "đã đọc", "en": "read"},
        "page_status_quarantined": {"vi": "tạm giữ", "en": "held"},
        "page_of_form": {"vi": "Trang {page} của phiếu {serial}", "en": "Page {page} of form {serial}"},
        "page_unidentified": {"vi": "Trang chưa xác định được thuộc phiếu nào", "en": "A page not identified"},
        "log_times": {"vi": "Giờ Việt Nam (UTC+7).", "en": "Vietnam time (UTC+7)."},
        "log_older": {"vi": "Cũ hơn →", "en": "Older →"},
        "log_newest": {"vi": "← Mới nhất", "en": "← Newest"},
        "log_empty": {"vi": "Chưa có quyết định nào.", "en": "No decisions yet."},
        "key_form": {"vi": "Cả phiếu", "en": "The whole form"},
        "key_page": {"vi": "Trang {page}: bản quét được tính", "en": "Page {page}: the scan that counts"},
        "key_missing": {"vi": "Trang {page} (thiếu)", "en": "Page {page} (missing)"},
        "key_marks": {"vi": "Trang {page} (không có dấu)", "en": "Page {page} (no marks)"},
        "key_quarantine": {"vi": "Trang tạm giữ ({where})", "en": "Quarantined page ({where})"},
        "key_placed": {"vi": "Trang xếp theo vị trí trong xấp ({where})", "en": "Page placed by the stack ({where})"},
        "value_placed_confirmed": {"vi": "Đúng là trang của phiếu", "en": "Confirmed as the form's page"},
        "value_taken_out": {"vi": "Đưa ra khỏi phiếu", "en": "Taken out of the form"},
        "value_blank": {"vi": "Để trống", "en": "Blank"},
        "value_rejected": {"vi": "Loại bỏ", "en": "Rejected"},
        "value_kept": {"vi": "Giữ phiếu", "en": "Form kept"},
        "value_not_returned": {"vi": "Không được gửi lại", "en": "Not returned"},
        "value_confirmed": {"vi": "Xác nhận trang đúng như đã đọc", "en": "Page confirmed as read"},
        "value_answer_each": {"vi": "Nhập từng câu theo phiếu giấy", "en": "Answer each question from the paper"},
        "value_use": {"vi": "Dùng bản quét {where}", "en": "Use the scan {where}"},
        "value_assign": {"vi": "Gán cho phiếu {serial}, trang {page}", "en": "Assigned to form {serial}, page {page}"},
        "unknown_reason": {"vi": "lý do khác", "en": "other reason"},
    }
)

REASONS.update(
    {
        "blank-page": {"vi": "trang trắng (mặt sau?)", "en": "blank page (a back side?)"},
        "duplicate-page": {"vi": "trang được quét hai lần, giống nhau", "en": "page scanned twice, same marks"},
        "assigned": {"vi": "đã gán cho phiếu", "en": "assigned to a form"},
        "placed": {"vi": "xếp vào phiếu theo vị trí trong xấp", "en": "placed in a form by the stack"},
        "not-a-form-code": {"vi": "mã QR không phải mã phiếu", "en": "not a form code"},
        "serials-disagree": {"vi": "số phiếu in ở đầu và cuối trang khác nhau", "en": "printed serials disagree"},
        "page-disagrees": {"vi": "số trang in không khớp", "en": "printed page number disagrees"},
        "page-unreadable": {"vi": "không đọc được số trang in", "en": "printed page number unreadable"},
        "page-out-of-range": {"vi": "số trang in vượt quá số trang của phiếu", "en": "printed page number out of range"},
        "page-count-mismatch": {"vi": "số trang của phiếu không khớp", "en": "page count does not match"},
        "survey-unknown": {"vi": "không nhận ra bộ phiếu", "en": "survey not recognised"},
        "corrupt-image": {"vi": "ảnh bị hỏng", "en": "corrupt image"},
        "corrupt-pdf": {"vi": "tệp PDF bị hỏng", "en": "corrupt PDF"},
        "empty-file": {"vi": "tệp rỗng", "en": "empty file"},
        "image-too-large": {"vi": "ảnh quá lớn", "en": "image too large"},
        "not-an-image": {"vi": "không phải tệp ảnh", "en": "not an image"},
        "password-protected": {"vi": "tệp có mật khẩu", "en": "password-protected file"},
        "unreadable": {"vi": "không mở được tệp", "en": "unreadable file"},
        "unreadable-page": {"vi": "không mở được trang trong tệp", "en": "unreadable page in the file"},
    }
)

# What a quarantine reason means for the person deciding, and what they can do.
REASON_HELP: dict[str, dict[str, str]] = {
    "forged-code": {
        "vi": "Mã QR đọc được nhưng chữ ký không khớp: trang có thể bị làm giả hoặc bị sửa. Trang này chỉ có thể bị loại bỏ.",
        "en": "The code was read but its signature does not match: the page may be forged or altered. It can only be rejected.",
    },
    "other-survey": {
        "vi": "Trang thuộc một cuộc khảo sát khác: loại bỏ trang (và quét nó vào đúng cơ sở dữ liệu).",
        "en": "The page belongs to another survey: reject it (and scan it into the right database).",
    },
    "malformed-code": {
        "vi": "Mã QR đọc được nhưng sai định dạng. Đọc số phiếu in trên trang rồi gán trang, hoặc loại bỏ.",
        "en": "The code was read but is malformed. Read the serial printed on the page and assign it, or reject it.",
    },
    "not-a-form-code": {
        "vi": "Mã QR trên trang không phải mã phiếu: có thể là trang lạc. Loại bỏ nếu đúng vậy.",
        "en": "The code on the page is no form code: a stray page? Reject it if so.",
    },
    "not-a-form": {
        "vi": "Trang không có mã phiếu, không có dấu định vị góc: có thể là trang lạc hoặc ảnh chụp. "
        "Loại bỏ nếu đúng là không phải trang phiếu.",
        "en": "No form code and no corner markers: a stray page or a photo? Reject it if it is no page of a form.",
    },
    "no-code": {
        "vi": "Không đọc được mã QR, cũng không đọc được số phiếu in trên trang. Đọc số phiếu trên trang "
        "rồi gán trang cho phiếu, hoặc loại bỏ.",
        "en": "Neither the code nor the printed serial could be read. Read the serial off the page and assign it, or reject it.",
    },
    "placement-declined": {
        "vi": "Máy đã xếp trang này vào một phiếu theo vị trí trong xấp, nhưng người duyệt xác nhận trang không thuộc phiếu đó. "
        "Đọc số phiếu trên trang rồi gán trang cho đúng phiếu, hoặc loại bỏ.",
        "en": "This page was put in a form by where it lay in the stack, and a reviewer found it is not that form's. "
        "Read the serial off the page and assign it to its form, or reject it.",
    },
    "serial-disputed": {
        "vi": "Không đọc được mã QR. Số phiếu in trên trang đọc được là của một phiếu, nhưng trang nằm giữa các trang "
        "của một phiếu khác, phiếu này lại thiếu đúng trang đó (số phiếu có thể bị đọc nhầm). Đọc số phiếu trên trang "
        "rồi gán trang cho đúng phiếu, hoặc loại bỏ.",
        "en": "No readable code. The serial printed on the page reads one form's, but the page lies between pages of "
        "another form, which lacks this very page (the serial may be misread). Read the serial off the page and assign it "
        "to its form, or reject it.",
    },
    "markers-not-found": {
        "vi": "Không thấy đủ dấu định vị ở các góc (trang bị cắt, gấp hoặc che). Đọc số phiếu trên trang rồi gán trang, hoặc loại bỏ.",
        "en": "Too few corner markers (cut off, folded or covered). Read the serial off the page and assign it, or reject it.",
    },
    "poor-alignment": {
        "vi": "Trang bị cong, gấp hoặc rách nên không căn chỉnh chính xác được. Quét lại trang nếu "
        "còn giấy; nếu không, gán hoặc loại bỏ.",
        "en": "The page is bent, folded or torn and does not align. Rescan it if the paper is at hand; otherwise assign or reject it.",
    },
    "structure-not-found": {
        "vi": "Không căn chỉnh được trang theo các ô và đường kẻ in trên đó. Quét lại trang "
        "nếu còn giấy; nếu không, gán hoặc loại bỏ.",
        "en": "The page could not be aligned by its printed boxes and rules. Rescan it if the "
        "paper is at hand; otherwise assign or reject it.",
    },
    "unknown-survey": {
        "vi": "Mã phiếu nêu một bộ phiếu không có định nghĩa ở đây. Loại bỏ trang hoặc báo cho người quản trị.",
        "en": "The code names a survey not defined here. Reject the page or tell the administrator.",
    },
    "unknown-page": {
        "vi": "Mã phiếu nêu một số trang mà phiếu không có. Đọc số phiếu và số trang in trên trang rồi gán, hoặc loại bỏ.",
        "en": "The code names a page the form does not have. Read the serial and page printed on it and assign it, or reject it.",
    },
    "read-error": {
        "vi": "Có lỗi khi đọc trang. Gán trang theo số phiếu in trên đó, hoặc loại bỏ.",
        "en": "Reading the page failed. Assign it by the serial printed on it, or reject it.",
    },
}

# What the placement adds when the placed page's own printed serial lines
# read something else than the form's serial (``assembly.placement``), and
# what the reviewer is told of it: {d} the digits read.
_MISREAD_TAILS: dict[str, dict[str, str]] = {
    r"; its printed serial read (\d+) \(fails its check digit\)": {
        "vi": " Số phiếu in trên trang đọc được là {d}, sai chữ số kiểm tra: hãy so với phiếu.",
        "en": " Its printed serial read {d}, which fails its check digit: compare it with the form.",
    },
    r"; its other printed serial line read (\d+)": {
        "vi": " Một dòng số phiếu in trên trang đọc đúng số phiếu này, dòng kia đọc được là {d}: hãy so với phiếu.",
        "en": " One printed serial line read this form's serial, the other {d}: compare it with the form.",
    },
}
_MISREAD_TAIL = "(?P<misread>" + "|".join(_MISREAD_TAILS) + ")?"

_DETAIL_PATTERNS: list[tuple[str, dict[str, str]]] = [
    (
        r"its printed serial reads (?P<serial>\d+), but it lies between pages (?P<a>\d+) and (?P<b>\d+) of form (?P<other>\d+)"
        r" \((?P<oa>.*?); (?P<ob>.*?)\), which has no page (?P<n>\d+); .*",
        {
            "vi": "Số phiếu in trên trang đọc được là {serial}, nhưng trang nằm giữa trang {a} và trang {b} của phiếu {other} "
            "({oa}; {ob}), phiếu này chưa có trang {n}.",
            "en": "Its printed serial reads {serial}, but it lies between pages {a} and {b} of form {other} ({oa}; {ob}), "
            "which has no page {n}.",
        },
    ),
    (
        r"no page of this form has a readable signed code; identified from the printed serial \((?P<copies>.*)\)",
        {
            "vi": "Không trang nào của phiếu có mã QR xác thực được; phiếu được nhận theo số phiếu in trên trang ({copies}).",
            "en": "No page of this form has a readable signed code; identified from the printed serial ({copies}).",
        },
    ),
    (r"page (?P<n>\d+) was not scanned", {"vi": "Trang {n} không có trong các tệp quét.", "en": "Page {n} was not scanned."}),
    (
        r"page (?P<n>\d+) \((?P<o>[^)]*)\) placed by its neighbours: "
        r"between pages (?P<a>\d+) and (?P<b>\d+) \((?P<oa>.*?); (?P<ob>.*?)\)" + _MISREAD_TAIL,
        {
            "vi": "Trang {n} ({o}) nằm giữa trang {a} và trang {b} của phiếu này ({oa}; {ob}).{misread}",
            "en": "Page {n} ({o}) lies between pages {a} and {b} of this form ({oa}; {ob}).{misread}",
        },
    ),
    (
        r"page (?P<n>\d+) \((?P<o>[^)]*)\) placed by its neighbours: after page (?P<a>\d+) \((?P<oa>.*?)\)" + _MISREAD_TAIL,
        {
            "vi": "Trang {n} ({o}) nằm ngay sau trang {a} của phiếu này ({oa}).{misread}",
            "en": "Page {n} ({o}) lies just after page {a} of this form ({oa}).{misread}",
        },
    ),
    (
        r"page (?P<n>\d+) \((?P<o>[^)]*)\) placed by its neighbours: before page (?P<a>\d+) \((?P<oa>.*?)\)" + _MISREAD_TAIL,
        {
            "vi": "Trang {n} ({o}) nằm ngay trước trang {a} của phiếu này ({oa}).{misread}",
            "en": "Page {n} ({o}) lies just before page {a} of this form ({oa}).{misread}",
        },
    ),
    (
        r"page (?P<n>\d+) \((?P<o>[^)]*)\) placed by its neighbours: "
        r"beside page (?P<a>\d+) \((?P<oa>.*)\); its printed serial read (?P<d>\d+)",
        {
            "vi": "Trang {n} ({o}) nằm cạnh trang {a} của phiếu này ({oa}); số phiếu in trên trang đọc được là {d}.",
            "en": "Page {n} ({o}) lies beside page {a} of this form ({oa}); its printed serial read {d}.",
        },
    ),
    (
        r"page (?P<n>\d+) \((?P<o>[^)]*)\) placed by its neighbours: "
        r"next to page (?P<a>\d+) \((?P<oa>.*?)\), the only form beside it without this page" + _MISREAD_TAIL,
        {
            "vi": "Trang {n} ({o}) nằm cạnh trang {a} của phiếu này ({oa});"
            " trong các phiếu nằm cạnh nó, chỉ phiếu này chưa có trang {n}.{misread}",
            "en": "Page {n} ({o}) lies next to page {a} of this form ({oa}), the only form beside it without a page {n}.{misread}",
        },
    ),
    (
        r"page (?P<n>\d+) could not be read \((?P<copies>.*): (?P<reason>[a-z-]+)\)",
        {"vi": "Trang {n} không đọc được ({copies}: {reason}).", "en": "Page {n} could not be read ({copies}: {reason})."},
    ),
    (
        r"page (?P<n>\d+) scanned twice, same marks where both scans read clearly \((?P<a>.*); (?P<b>.*)\)",
        {
            "vi": "Trang {n} được quét hai lần, dấu giống nhau ở những câu cả hai bản đều đọc rõ; bản rõ hơn được tính ({a}; {b}).",
            "en": "Page {n} scanned twice, same marks where both scans read clearly; the clearer counts ({a}; {b}).",
        },
    ),
    (
        r"page (?P<n>\d+) scanned twice, same marks \((?P<a>.*); (?P<b>.*)\)",
        {"vi": "Trang {n} được quét hai lần, dấu giống nhau ({a}; {b}).", "en": "Page {n} scanned twice, same marks ({a}; {b})."},
    ),
    (
        r"page (?P<n>\d+) scanned twice: '(?P<va>[^']*)' \((?P<a>.*)\) and '(?P<vb>[^']*)' \((?P<b>.*)\)",
        {"vi": "Trang {n} được quét hai lần: {va} ({a}) và {vb} ({b}).", "en": "Page {n} scanned twice: {va} ({a}) and {vb} ({b})."},
    ),
    (
        r"page (?P<n>\d+) read from (?P<a>.*); another copy \((?P<b>.*)\) could not be read: (?P<reason>[a-z-]+)",
        {
            "vi": "Trang {n} được đọc từ {a}; một bản khác ({b}) không đọc được: {reason}.",
            "en": "Page {n} read from {a}; another copy ({b}) could not be read: {reason}.",
        },
    ),
    (r"page (?P<n>\d+) has no marks at all", {"vi": "Trang {n} không có dấu nào.", "en": "Page {n} has no marks at all."}),
    (
        r"page (?P<n>\d+): grid (?P<grid>\S+) has no marks at all",
        {"vi": "Trang {n}: bảng {grid} không có dấu nào.", "en": "Page {n}: grid {grid} has no marks at all."},
    ),
    (
        r"page (?P<n>\d+): grid (?P<grid>\S+) has (?P<k>\d+) of (?P<m>\d+) rows without marks",
        {
            "vi": "Trang {n}: bảng {grid} có {k} trên {m} dòng không có dấu.",
            "en": "Page {n}: grid {grid} has {k} of {m} rows without marks.",
        },
    ),
    (
        r"page (?P<n>\d+): (?P<k>\d+) of (?P<m>\d+) questions without marks",
        {"vi": "Trang {n}: {k} trên {m} câu không có dấu.", "en": "Page {n}: {k} of {m} questions without marks."},
    ),
    (
        r"page (?P<n>\d+): (?P<k>\d+) of (?P<m>\d+) questions in a row without marks",
        {
            "vi": "Trang {n}: {k} trong {m} câu liền nhau không có dấu, dù các câu sau có trả lời.",
            "en": "Page {n}: {k} of {m} questions in a row without marks, though later ones are answered.",
        },
    ),
    (
        r"page (?P<n>\d+): (?P<k>\d+) questions in a row without marks",
        {
            "vi": "Trang {n}: {k} câu liền nhau không có dấu, dù các câu sau có trả lời.",
            "en": "Page {n}: {k} questions in a row without marks, though later ones are answered.",
        },
    ),
    (
        r"page (?P<n>\d+): (?P<k>\d+) of its questions without marks, where the form's marks vanish elsewhere",
        {
            "vi": "Trang {n}: {k} câu không có dấu, trong khi ở chỗ khác trên phiếu có dấu bị mất hoặc rất mờ.",
            "en": "Page {n}: {k} of its questions without marks, where the form's marks vanish elsewhere.",
        },
    ),
    (
        r"page (?P<n>\d+): its answers to check against the paper, where the form's marks vanish elsewhere",
        {
            "vi": "Trang {n}: đối chiếu các câu trả lời với phiếu giấy, vì ở chỗ khác trên phiếu có dấu bị mất hoặc rất mờ.",
            "en": "Page {n}: its answers to check against the paper, where the form's marks vanish elsewhere.",
        },
    ),
    (
        r"page (?P<n>\d+): answer from the paper",
        {"vi": "Trang {n}: nhập câu trả lời theo phiếu giấy.", "en": "Page {n}: answer from the paper."},
    ),
    (
        r"page (?P<pages>[\d, ]+) scanned twice with different marks; pages read: (?P<copies>.*)",
        {
            "vi": "Trang {pages} được quét hai lần với dấu khác nhau; các trang đã đọc: {copies}.",
            "en": "Page {pages} scanned twice with different marks; pages read: {copies}.",
        },
    ),
    (
        r"answered although (?P<q>\S+) says it does not apply",
        {"vi": "Đã được trả lời dù câu {q} cho biết câu này không áp dụng.", "en": "Answered although {q} says it does not apply."},
    ),
    (
        r"the serial printed on it is not in the ledger, and no page has a readable code",
        {
            "vi": "Số phiếu in trên trang không có trong sổ phát phiếu, và không trang nào có mã QR đọc được.",
            "en": "The serial printed on it is not in the ledger, and no page has a readable code.",
        },
    ),
    (
        r"a valid code, but the serial is not in the ledger",
        {
            "vi": "Mã phiếu hợp lệ nhưng số phiếu không có trong sổ phát phiếu.",
            "en": "A valid code, but the serial is not in the ledger.",
        },
    ),
    (
        r"the page is blank \(a back side\?\)",
        {"vi": "Trang trắng (mặt sau của tờ phiếu?).", "en": "The page is blank (a back side?)."},
    ),
    (
        r"no form code, no corner markers and no form's print: not a page of a form",
        {
            "vi": "Không có mã phiếu, không có dấu định vị góc, và chữ in không khớp với trang phiếu nào: không phải trang phiếu.",
            "en": "No form code, no corner markers and no form's print: not a page of a form.",
        },
    ),
    (
        r"no form code and no corner markers: not a page of a form",
        {
            "vi": "Không có mã phiếu và không có dấu định vị góc: không phải trang phiếu.",
            "en": "No form code and no corner markers: not a page of a form.",
        },
    ),
    (
        r"markers disagree by (?P<mm>[\d.]+) mm \(page bent or torn\?\)",
        {
            "vi": "Các dấu định vị lệch nhau {mm} mm (trang bị cong hoặc rách?).",
            "en": "The markers disagree by {mm} mm (page bent or torn?).",
        },
    ),
    (
        r"the code of form (?P<serial>\d+) page (?P<page>\d+) does not verify.*",
        {
            "vi": "Mã QR ghi phiếu {serial}, trang {page} nhưng chữ ký không khớp.",
            "en": "The code says form {serial}, page {page}, but its signature does not match.",
        },
    ),
    (
        r"the page belongs to survey '(?P<survey>[^']*)', not '(?P<expected>[^']*)'",
        {
            "vi": "Trang thuộc bộ phiếu '{survey}', không phải '{expected}'.",
            "en": "The page belongs to survey '{survey}', not '{expected}'.",
        },
    ),
    (
        r"page (?P<page>\d+) of a (?P<count>\d+)-page form",
        {"vi": "Mã ghi trang {page} nhưng phiếu chỉ có {count} trang.", "en": "Page {page} of a {count}-page form."},
    ),
    (
        r"no survey definition '(?P<survey>[^']*)' in forms/",
        {"vi": "Không có định nghĩa bộ phiếu '{survey}'.", "en": "No survey definition '{survey}'."},
    ),
    (r"no QR code could be read(; .*)?", {"vi": "Không đọc được mã QR.", "en": "No QR code could be read."}),
    (
        r"found corner markers \[(?P<markers>[\d, ]*)\].*",
        {
            "vi": "Chỉ thấy các dấu định vị góc số [{markers}]: không đủ để căn chỉnh trang.",
            "en": "Only corner markers [{markers}] were found: too few to align the page.",
        },
    ),
]
_ORIGIN = re.compile(r"(?P<file>[^;,()]+?) p\. (?P<page>\d+)")


def _origins(text: str, language: str) -> str:
    """'scan.pdf p. 3' (a file and the page in it) as the language writes it."""
    short = {"vi": "tr.", "en": "p."}.get(language, "p.")
    return _ORIGIN.sub(lambda m: f"{m['file']} {short} {m['page']}", text)


def detail_text(detail: str, language: str, name: Callable[[str], str] = str) -> str:
    """A flag's or a quarantine's detail (written in English by the reader)
    in ``language``; '' when its wording is not known (the reason's own
    explanation stands for it then). ``name`` turns a question or grid id
    into what the form prints (A5, 5.)."""
    for pattern, texts in _DETAIL_PATTERNS:
        found = re.fullmatch(pattern, detail.strip(), flags=re.DOTALL)
        if found:
            values = {}
            for key, value in found.groupdict(default="").items():
                if key == "reason":
                    value = reason_label(value, language)
                elif key in ("q", "grid"):
                    value = name(value)
                elif key in ("va", "vb"):
                    value = value or label("machine_blank", language)
                elif key == "misread":
                    value = _misread_text(value, language)
                values[key] = _origins(value, language)
            return texts.get(language, texts["en"]).format(**values)
    return detail if language == "en" else ""


def _misread_text(tail: str, language: str) -> str:
    """What a placement's ``_MISREAD_TAILS`` tail tells the reviewer ('' for none)."""
    for pattern, texts in _MISREAD_TAILS.items():
        found = re.fullmatch(pattern, tail)
        if found:
            return texts.get(language, texts["en"]).format(d=found[1])
    return ""


def reason_help(reason: str, language: str) -> str:
    return REASON_HELP.get(reason, {}).get(language, "")


def _vietnam() -> dt.tzinfo:
    """Asia/Ho_Chi_Minh; where the tz database is not installed, its fixed
    UTC+7 (Vietnam has kept it, without daylight saving, since 1975)."""
    try:
        return zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone(dt.timedelta(hours=7), "ICT")


VIETNAM = _vietnam()


def local_time(stamp: str) -> str:
    """An ISO time stored in UTC as Vietnam's clock shows it (dd/mm/yyyy hh:mm:ss)."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")
