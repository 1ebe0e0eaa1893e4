"""The retail pipeline's samples: samples/retail/online_retail.csv (UCI Online Retail, first edition)."""

from __future__ import annotations

import csv
import io
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

# 17850.0), as the retail pipeline's producer reads it. Generated from a fixed seed, a few hundred rows with
# every quirk of the data set: cancellations (C…, negative quantities, a D discount among them), bad-debt
# adjustments (A…, stock code B, one with a negative price), blank customers (about a quarter of invoices),
# exact duplicate rows, non-product stock codes (POST, DOT, M, C2, BANK CHARGES, AMAZONFEE, CRUK, PADS, S,
# gift_…), zero prices, stock write-offs (negative quantity, no C, no customer), an unknown country
# ("Unspecified") and a price of 0.001 (PADS: cannot be stored as decimal(10,2), so quarantined).
RETAIL_HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
RETAIL_FILE = "online_retail.csv"
_RETAIL_PRODUCTS = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2.55"),
    ("71053", "WHITE METAL LANTERN", "3.39"),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", "2.75"),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", "7.65"),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", "4.25"),
    ("22633", "HAND WARMER UNION JACK", "1.85"),
    ("22745", "POPPY'S PLAYHOUSE BEDROOM ", "2.1"),
    ("22728", "ALARM CLOCK BAKELIKE PINK", "3.75"),
    ("82567", "AIRLINE LOUNGE,METAL SIGN", "2.1"),
    ("35004C", "SET OF 3 COLOURED  FLYING DUCKS", "4.65"),
    ("21754", "HOME BUILDING BLOCK WORD", "5.95"),
    ("22960", "JAM MAKING SET WITH JARS", "4.25"),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", "1.69"),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS ", "2.95"),
    ("47566", "PARTY BUNTING", "4.95"),
    ("20725", "LUNCH BAG RED RETROSPOT", "1.65"),
    ("85099B", "JUMBO BAG RED RETROSPOT", "1.95"),
    ("23084", "RABBIT NIGHT LIGHT", "2.08"),
]
_RETAIL_CUSTOMERS = [
    ("17850", "United Kingdom"),
    ("13047", "United Kingdom"),
    ("12583", "France"),
    ("15311", "United Kingdom"),
    ("14527", "United Kingdom"),
    ("12791", "Netherlands"),
    ("16098", "United Kingdom"),
    ("12431", "Australia"),
    ("12662", "Germany"),
    ("14688", "United Kingdom"),
    ("12347", "Iceland"),
    ("12370", "Cyprus"),
]


def retail_rows(seed: int = 2010, invoices: int = 48) -> list[dict]:
    """The sample's rows in file order: InvoiceNo, StockCode, Description, Quantity (int), InvoiceDate
    (datetime), UnitPrice (text as written), CustomerID (digits, or None for a guest), Country."""
    rng = random.Random(seed)
    rows: list[dict] = []
    at = datetime(2010, 12, 1, 8, 26)
    number = 536365
    sold: list[list[dict]] = []  # invoices with a customer, for the cancellations

    def row(invoice, code, description, quantity, price, customer, country, when):
        return {"InvoiceNo": invoice, "StockCode": code, "Description": description, "Quantity": quantity,
                "InvoiceDate": when, "UnitPrice": price, "CustomerID": customer, "Country": country}  # fmt: skip

    for index in range(invoices):
        at += timedelta(minutes=rng.randint(3, 400))
        invoice = str(number + index)
        guest = rng.random() < 0.25
        customer, country = (None, "United Kingdom") if guest else rng.choice(_RETAIL_CUSTOMERS)
        if index == 20:
            country = "Unspecified"  # not a country: flagged unknown
        lines = [
            row(invoice, code, description, rng.choice([1, 2, 3, 4, 6, 12, 24]), price, customer, country, at)
            for code, description, price in rng.sample(_RETAIL_PRODUCTS, rng.randint(2, 7))
        ]
        if country not in ("United Kingdom", "Unspecified"):
            lines.append(row(invoice, "POST", "POSTAGE", rng.randint(1, 3), "18.0", customer, country, at))
        if index % 9 == 4:
            lines.insert(1, dict(lines[0]))  # an exact duplicate row, as the data set has thousands
        if index % 11 == 7:
            lines.append(row(invoice, "22139", "", 56, "0.0", customer, country, at))  # zero price, no description
        extras = {
            3: ("DOT", "DOTCOM POSTAGE", 1, "569.77"),
            6: ("M", "Manual", 1, "0.85"),
            10: ("C2", "CARRIAGE", 1, "50.0"),
            14: ("BANK CHARGES", "Bank Charges", 1, "15.0"),
            17: ("AMAZONFEE", "AMAZON FEE", 1, "5.0"),
            23: ("CRUK", "CRUK Commission", 1, "1.6"),
            26: ("PADS", "PADS TO MATCH ALL CUSHIONS", 1, "0.001"),
            30: ("S", "SAMPLES", 1, "12.0"),
            34: ("gift_0001_20", "Dotcomgiftshop Gift Voucher £20.00", 1, "17.02"),
        }
        if index in extras:
            code, description, quantity, price = extras[index]
            lines.append(row(invoice, code, description, quantity, price, customer, country, at))
        rows += lines
        if customer is not None:
            sold.append(lines)
        if index % 8 == 5 and sold:  # a cancellation of part of an earlier invoice, with a discount line
            earlier = rng.choice(sold)
            at += timedelta(minutes=rng.randint(1, 30))
            cancelled = f"C{number + index}"
            for line in earlier[: rng.randint(1, 2)]:
                rows.append(row(cancelled, line["StockCode"], line["Description"], -line["Quantity"],
                                line["UnitPrice"], line["CustomerID"], line["Country"], at))  # fmt: skip
            rows.append(
                row(cancelled, "D", "Discount", -1, "27.5", earlier[0]["CustomerID"], earlier[0]["Country"], at)
            )
        if index % 10 == 8:  # a stock write-off: negative quantity, not a cancellation, no customer, no price
            code, _, _ = rng.choice(_RETAIL_PRODUCTS)
            note = rng.choice(["?", "damaged", "check", ""])
            rows.append(
                row(str(number + 1000 + index), code, note, -rng.randint(5, 60), "0.0", None, "United Kingdom", at)
            )
    at += timedelta(hours=2)
    rows.append(row("A563185", "B", "Adjust bad debt", 1, "11062.06", None, "United Kingdom", at))
    rows.append(row("A563186", "B", "Adjust bad debt", 1, "-11062.06", None, "United Kingdom", at))
    return rows


def retail_csv(rows: list[dict]) -> str:
    """The rows as the first edition's CSV: CustomerID as 17850.0, dates 2010-12-01 08:26:00."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RETAIL_HEADER)
    for r in rows:
        customer = "" if r["CustomerID"] is None else f"{r['CustomerID']}.0"
        when = r["InvoiceDate"].strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([r["InvoiceNo"], r["StockCode"], r["Description"], r["Quantity"], when, r["UnitPrice"],
                         customer, r["Country"]])  # fmt: skip
    return out.getvalue()


def write_retail_samples(folder: Path) -> None:
    """samples/retail/online_retail.csv (first edition)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RETAIL_FILE).write_text(retail_csv(retail_rows()), encoding="utf-8")
    print(f"retail samples written under {folder}", file=sys.stderr)


def write(samples: Path) -> None:
    write_retail_samples(samples / "retail")
