"""Regenerate the PDF files of the sample corpus (v1 and v2 editions).

Usage (system python with fpdf2 installed: ``python3 -m pip install fpdf2``)::

    python3 ingestion/sample_corpus/make_pdfs.py

Writes ``v1/hr/benefits-handbook.pdf`` and ``v2/hr/benefits-handbook.pdf``. The two editions
differ in one fact: the annual learning budget (EUR 1,500 in v1, EUR 2,000 in v2). Output is
deterministic (fixed creation date), so rerunning the script gives byte-identical files.
Text is plain latin-1 in the core Helvetica font so that pypdf extracts it cleanly.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent
REL_PATH = Path("hr") / "benefits-handbook.pdf"
CREATION_DATE = _dt.datetime(2025, 1, 15, 9, 0, 0, tzinfo=_dt.timezone.utc)

TITLE = "Marrowfield Benefits Handbook 2025"

# (heading, [paragraphs]); "{learning_budget}" is filled in per edition.
SECTIONS: list[tuple[str, list[str]]] = [
    (
        "About this handbook",
        [
            "This handbook summarises the benefits that Marrowfield Instruments offers to its "
            "employees in 2025. It applies to employees on permanent contracts and on fixed-term "
            "contracts of at least 12 months. Where a benefit is arranged differently in a "
            "particular country, the local benefits addendum on the Wharf takes precedence. "
            "Questions about any benefit can be sent to benefits@marrowfield.io.",
            "Benefits choices for the following year are made during open enrolment, which runs "
            "every year from 1 to 30 November in Helm. Outside open enrolment, changes are only "
            "possible after a life event such as a birth, a marriage or a move to another country.",
        ],
    ),
    (
        "Pension",
        [
            "Employees in the Netherlands are enrolled in the Marrowfield pension plan, which is "
            "administered by Noordhaven Pensioen. Marrowfield pays an employer contribution of 6 "
            "percent of base salary into every employee's pension account. In addition, Marrowfield "
            "matches voluntary employee contributions euro for euro up to a further 2 percent of "
            "base salary. Employees in other countries receive an equivalent plan with a local "
            "provider, described in the local addendum.",
        ],
    ),
    (
        "Health and wellbeing",
        [
            "Employees in the Netherlands receive supplementary health insurance from Meridian "
            "Health. Marrowfield pays 100 percent of the premium for the employee and 50 percent of "
            "the premium for a partner and children. The supplementary policy covers "
            "physiotherapy, mental health care beyond the statutory package and vaccinations for "
            "business travel.",
            "Every employee worldwide has free access to the ClearWater employee assistance "
            "programme, which offers up to 8 confidential counselling sessions per year with a "
            "licensed psychologist, by video or in person. Marrowfield never learns who uses the "
            "programme.",
            "Marrowfield pays a gym and sports subsidy of EUR 40 per month to every employee who "
            "shows proof of a sports membership. Employees who work at a screen receive up to EUR "
            "250 towards computer glasses every 2 years.",
        ],
    ),
    (
        "Learning and development",
        [
            "Every employee has an annual learning budget of {learning_budget} for courses, "
            "conferences, books and certifications that are relevant to their role or their "
            "career at Marrowfield. Unused learning budget does not carry over into the next year. "
            "In addition to the budget, every employee can take 3 paid learning days per year to "
            "attend training or to study.",
            "Learning expenses are approved by the employee's manager and claimed in Ledgerly "
            "like other expenses. Employees who leave Marrowfield within 12 months of a single "
            "course costing more than EUR 3,000 must repay half of its cost.",
        ],
    ),
    (
        "Getting around",
        [
            "Through the Pedalwise bike lease scheme, employees can lease a bicycle or e-bike "
            "worth up to EUR 3,000 for 36 months, with the lease paid from gross salary. At the "
            "end of the lease the employee can buy the bike for 15 percent of its original price. "
            "Employees who commute by public transport are reimbursed for the full cost of a "
            "second-class season ticket.",
        ],
    ),
    (
        "Anchor Shares",
        [
            "Anchor Shares is the Marrowfield employee stock option plan. All permanent employees "
            "receive an initial grant of options after their probation period, and top-up grants "
            "may be awarded in the October Compass cycle. Options vest over 4 years with a 1-year "
            "cliff: a quarter of the grant vests on the first anniversary of the grant date, and "
            "the rest vests monthly over the following three years. Vested options can be "
            "exercised up to 10 years after the grant date.",
        ],
    ),
    (
        "Insurance",
        [
            "Marrowfield provides life insurance for all employees at no cost. The life insurance "
            "pays out 3 times the employee's annual base salary to the beneficiaries the employee "
            "has named in Helm. Employees are also covered by a collective disability insurance "
            "that tops up statutory disability benefits to 80 percent of the last earned salary "
            "for up to 5 years.",
            "Business travel insurance covers all employees and their luggage on business trips "
            "worldwide. The insurance card is available in Helm and must be carried on every "
            "trip outside the employee's country of employment.",
        ],
    ),
    (
        "Other benefits",
        [
            "Employees receive a birthday day off, which must be taken within the calendar month "
            "of their birthday. On the fifth, tenth and fifteenth anniversary of joining "
            "Marrowfield, employees receive an anniversary bonus of one extra week of salary. "
            "Employees who refer a candidate who is hired and passes probation receive a referral "
            "bonus of EUR 2,500.",
        ],
    ),
]

EDITIONS = {
    "v1": {"learning_budget": "EUR 1,500"},
    "v2": {"learning_budget": "EUR 2,000"},
}


def build(edition: str, values: dict[str, str]) -> Path:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_title(TITLE)
    pdf.set_author("Marrowfield People Operations")
    pdf.set_margins(22, 22, 22)
    pdf.set_auto_page_break(auto=True, margin=22)

    def footer() -> None:
        pdf.set_y(-15)
        pdf.set_font("Helvetica", "I", 8)
        pdf.cell(0, 10, f"Marrowfield Instruments - Internal - Page {pdf.page_no()}", align="C")

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    subtitle = "People Operations - valid from 1 January 2025 to 31 December 2025"
    pdf.multi_cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, paragraphs in SECTIONS:
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        for para in paragraphs:
            pdf.multi_cell(0, 6, para.format(**values), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        pdf.ln(2)
    out = HERE / edition / REL_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def main() -> None:
    for edition, values in EDITIONS.items():
        path = build(edition, values)
        print(f"wrote {path.relative_to(HERE)}")


if __name__ == "__main__":
    main()
