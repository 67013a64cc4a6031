"""The report as one self-contained HTML file: charts are PNG data URIs, the
style sheet is inline, nothing is fetched from anywhere."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from sipas_scan.report import model

_STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; max-width: 820px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; font-size: 15px; }
h1.title { text-align: center; font-size: 1.5em; margin-bottom: .2em; }
p.subtitle { text-align: center; font-weight: bold; font-size: 1.1em; margin-top: 0; }
h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #9aa9b8; }
h3 { font-size: 1.08em; margin-top: 1.2em; }
h4 { font-size: 1em; color: #1c4466; margin: 1em 0 .3em; }
p.note { font-size: .88em; color: #444; }
table { border-collapse: collapse; width: 100%; margin: .3em 0 1em; font-size: .88em; }
th { background: #dfe8f1; text-align: left; }
th, td { border-bottom: 1px solid #9aa9b8; padding: 2px 6px; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
figure { margin: 1em 0; text-align: center; }
figure img { max-width: 100%; }
figcaption { font-size: .88em; color: #333; }
div.figure { text-align: center; margin: 1em 0; }
div.figure .value { font-size: 2.2em; font-weight: bold; color: #1c4466; }
tr.total td { font-weight: bold; }
table.letterhead, table.signature { border: none; margin-bottom: 1.5em; }
table.letterhead td, table.signature td { border: none; text-align: center; vertical-align: top; width: 50%; }
table.letterhead hr { width: 40%; margin: .2em auto; border: none; border-top: 1px solid #222; }
table.signature td.recipients { text-align: left; font-size: .85em; }
"""


def _table(table: model.Table) -> str:
    caption = f"<h4>{escape(table.caption)}</h4>" if table.caption else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = "".join(
        ('<tr class="total">' if r in table.bold_rows else "<tr>")
        + "".join(f'<td class="num">{escape(c)}</td>' if i in table.numeric else f"<td>{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for r, row in enumerate(table.rows)
    )
    return f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _block(block: model.Block) -> str:
    if isinstance(block, model.Heading):
        return f"<h{block.level + 1}>{escape(block.text)}</h{block.level + 1}>"
    if isinstance(block, model.Paragraph):
        return f'<p class="note">{escape(block.text)}</p>' if block.note else f"<p>{escape(block.text)}</p>"
    if isinstance(block, model.Bullets):
        items = "".join(
            f'<li style="margin-left:{1.5 * ((len(i) - len(i.lstrip())) // 4)}em">{escape(i.strip())}</li>' for i in block.items
        )
        return f"<ul>{items}</ul>"
    if isinstance(block, model.Table):
        return _table(block)
    if isinstance(block, model.Chart):
        data = base64.b64encode(block.png).decode("ascii")
        return (
            f'<figure><img alt="{escape(block.caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(block.caption)}</figcaption></figure>"
        )
    if isinstance(block, model.Figure):
        return (
            f'<div class="figure"><div>{escape(block.label)}</div><div class="value">{escape(block.value)}</div>'
            f"<div>{escape(block.detail)}</div></div>"
        )
    raise TypeError(f"unknown report block {type(block).__name__}")


def _letterhead(head: model.Letterhead) -> str:
    authority = f"{escape(head.authority)}<br>" if head.authority else ""
    return (
        '<table class="letterhead"><tr>'
        f"<td>{authority}<b>{escape(head.issuer)}</b><hr>{escape(head.number_line)}</td>"
        "<td><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br><b>Độc lập - Tự do - Hạnh phúc</b><hr>"
        f"<i>{escape(head.date_line)}</i></td></tr></table>"
    )


def _signature(head: model.Letterhead) -> str:
    recipients = "".join(f"<br>- {escape(r)}" for r in head.recipients)
    signing_for = f"<b>{escape(head.signing_for)}</b><br>" if head.signing_for else ""
    return (
        '<table class="signature"><tr>'
        f'<td class="recipients"><b><i>Nơi nhận:</i></b>{recipients}</td>'
        f"<td>{signing_for}<b>{escape(head.signer_title)}</b><br><i>(Chữ ký, dấu)</i><br><br><br><br>"
        f"<b>{escape(head.signer)}</b></td></tr></table>"
    )


def render_html(report: model.Report) -> str:
    body = "\n".join(_block(block) for block in report.blocks)
    if report.letterhead:
        body = f"{body}\n{_signature(report.letterhead)}"
    letterhead = _letterhead(report.letterhead) + "\n" if report.letterhead else ""
    return (
        f'<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(report.subtitle)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f'{letterhead}<h1 class="title">{escape(report.title)}</h1>\n<p class="subtitle">{escape(report.subtitle)}</p>\n'
        f"{body}\n</body>\n</html>\n"
    )


def write_html(report: model.Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
