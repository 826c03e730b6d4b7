"""Writes the small files of the bad-input corpus (run from anywhere; they are committed).

Every child identifier here is made up and starts with QX7, so a test can check that none
ever shows up in a message. Large files (a 2 GB line) and workbooks are made at test time
by tests/test_bad_input.py. See README.md beside this file for what each case is.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
CIN = HERE.parent / "fixtures" / "cin" / "cin_2024.xml"
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
REVIEWS = "CHILD,DOB,REVIEW,REVIEW_CODE"
SERVICES = "Involvement ID,Child ID,Service,Team,Date Requested,Date Started,Date Ended,Outcome"
OC2 = (
    "CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,"
    "HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED"
)


def files() -> dict[str, bytes]:
    """Corpus file name -> content."""
    episode = "QX7014,01/04/2023,S,C2,N1,U1,PR1,,,,BN21 4TY,BN1 1AA,SC123456\n"
    cin = CIN.read_text()
    for old, new in (("C001", "QX7101"), ("C002", "QX7102"), ("C003", "QX7103")):
        cin = cin.replace(old, new)
    body = cin.split("?>", 1)[1]
    laughs = "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    text: dict[str, str] = {
        "header_only_episodes.csv": EPISODES + "\n",
        "utf8_bom_header.csv": "\ufeff" + HEADER + "\nQX7003,1,03/05/2010,WBRI,A123456789012,,\n",
        "semicolon_episodes.csv": EPISODES.replace(",", ";")
        + "\nQX7006;01/04/2023;S;C2;N1;U1;PR1;;;;BN21 4TY;BN1 1AA;SC123456\n",
        "tab_reviews.tsv": REVIEWS.replace(",", "\t")
        + "\nQX7007\t03/05/2010\t15/05/2023\tPN1\nQX7007\t03/05/2010\t10/11/2023\tPN0\n",
        "numbers_10_0_oc2.csv": OC2
        + "\nQX7008,03/05/2010,10.0,,0,1,1,1,1,0,,\nQX7009,03/05/2011, 12 ,,0,1.0,1,1,1,0,,"
        "\nQX7010,03/05/2012,10.5,,0,1,1,1,1,0,,\n",
        "blank_child_ids_reviews.csv": REVIEWS
        + "\nQX7011,03/05/2010,15/05/2023,PN1\n,03/05/2010,16/05/2023,PN1\n"
        "   ,03/05/2010,17/05/2023,PN1\n",
        "mixed_dates_missing.csv": "CHILD,DOB,MISSING,MIS_START,MIS_END\n"
        "QX7012,03/05/2010,M,2023-06-02,2023-06-03\nQX7012,03/05/2010,M,04/07/2023,05/07/2023\n"
        "QX7012,03/05/2010,A,04.08.2023,\nQX7012,03/05/2010,A,3rd March 2023,\n",
        "excel_serial_dates_missing.csv": "CHILD,DOB,MISSING,MIS_START,MIS_END\n"
        "QX7013,40301,M,45382,45383\nQX7013,40301.0,M,45200.0,\n",
        "duplicate_rows_episodes.csv": EPISODES + "\n" + episode * 3,
        "crlf_header.csv": (
            HEADER + "\nQX7015,1,03/05/2010,WBRI,A123456789012,,\nQX7016,2,15/11/2015,BAFR,UN1,,\n"
        ).replace("\n", "\r\n"),
        "trailing_blank_lines_reviews.csv": REVIEWS
        + "\nQX7017,03/05/2010,15/05/2023,PN1\n\n\n,,,\n\n",
        "embedded_newlines_services.csv": SERVICES
        + '\nS9,QX7018,Family Support,North,2023-04-03,2023-04-10,2023-06-01,"Closed: goals met.'
        '\nFamily thanked the team."\nS10,QX7019,"Youth\nWork",North,2023-05-03,,,\n',
        "ragged_rows_reviews.csv": REVIEWS
        + "\nQX7020,03/05/2010,15/05/2023,PN1\nQX7021,03/05/2010,16/05/2023,PN1,extra,fields"
        "\nQX7022,03/05/2010,17/05/2023\n",
        "headerless_episodes.csv": "QX7023,01/04/2023,S,C2,N1,U1,PR1,,,,BN21 4TY,BN1 1AA,SC1\n",
        "bank_statement.csv": "Date,Description,Amount,Balance\n"
        "01/04/2024,CARD PAYMENT TESCO,-23.50,1200.00\n02/04/2024,SALARY,2000.00,3200.00\n",
        "oc3_without_year.csv": "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\nQX7024,01/01/2005,YES,F2,B1\n",
        "impossible_date_cin.xml": cin.replace(
            "<AssessmentActualStartDate>2023-03-02<", "<AssessmentActualStartDate>2028-03-02<"
        ),
        "truncated_cin.xml": cin[: len(cin) * 2 // 3],
        "billion_laughs_cin.xml": '<?xml version="1.0"?>\n<!DOCTYPE Message [\n'
        ' <!ENTITY lol "lol">\n'
        + laughs
        + "]>"
        + body.replace("<SoftwareCode>Local Authority<", "<SoftwareCode>&lol9;<"),
        "xxe_cin.xml": '<?xml version="1.0"?>\n'
        '<!DOCTYPE Message [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + body.replace("<SoftwareCode>Local Authority<", "<SoftwareCode>&xxe;<"),
        "unrelated_folder/minutes.txt": "Team meeting minutes\nAgenda: caseloads\n",
        "unrelated_folder/budget.json": '{"year": 2024, "total": 1000}\n',
        "unrelated_folder/statement.csv": "Date,Description,Amount\n01/04/2024,RENT,-500\n",
    }
    out = {name: content.encode("utf-8") for name, content in text.items()}
    out["empty.csv"] = b""
    out["whitespace_only.csv"] = b"  \n\n \r\n"
    out["utf16_header.csv"] = (
        HEADER + "\nQX7001,1,03/05/2010,WBRI,A123456789012,,\nQX7002,2,15/11/2015,BAFR,UN1,,\n"
    ).encode("utf-16")
    out["latin1_services.csv"] = (
        SERVICES + ",Sex,Ethnicity,Locality\n"
        "S1,QX7004,Family Support,Équipe Nord,2023-04-03,2023-04-10,,,1,WBRI,Hailsham\n"
        "S2,QX7005,Youth Work,Zoë's team,05/06/2023,,,,,,Crowborough\n"
    ).encode("latin-1")
    out["pdf_renamed.csv"] = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    out["unrelated_folder/logo.png"] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    return out


def main() -> None:
    for name, content in files().items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


if __name__ == "__main__":
    main()
