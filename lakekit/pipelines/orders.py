"""The orders pipeline: order events posted to `lake serve` -> landing/streams/orders/ -> raw.orders_events -> four
curated Delta tables (orders, product_details, purchase_details, shipping_addresses)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from lakekit.core.registry import Pipeline

STREAM = "orders"

# The seed's producer: order ids from 100,000 values, customers from a pool of 30, sizes XXS…XXXL.
_CUSTOMERS = [f"user{n:04d}" for n in random.Random(30).sample(range(10_000), 30)]
_STATUSES = ["pending", "processing", "shipped", "delivered", "cancelled"]
_PRODUCTS = ["window", "garden", "lamp", "chair", "kettle", "blanket", "mirror", "rug", "shelf", "vase"]
_COLORS = ["SlateBlue", "Ivory", "Tomato", "OliveDrab", "Black", "Gold"]
_SIZES = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"]
_PAYMENTS = ["credit_card", "debit_card", "paypal", "bank_transfer"]
_CURRENCIES = ["USD", "EUR", "GBP"]
_PLACES = [
    ("Port Jessica", "Ohio", "Lithuania"),
    ("Lake Amanda", "Texas", "United States"),
    ("East Kevin", "Maine", "Portugal"),
    ("Millerside", "Oregon", "Japan"),
    ("New Tara", "Vermont", "Brazil"),
]
_START = datetime(2024, 6, 14, 9, 0, tzinfo=UTC)


def make_order_event(rng: random.Random, number: int) -> dict[str, Any]:
    """One order event shaped like the seed's producer's (its `purchaise_details` spelling 9 times in 10)."""
    city, state, country = rng.choice(_PLACES)
    ordered_at = _START + timedelta(seconds=number * 7 + rng.randrange(7), microseconds=rng.randrange(1_000_000))
    lines = [
        {
            "product_id": f"p{rng.randrange(2000):05d}",
            "name": rng.choice(_PRODUCTS),
            "quantity": rng.randint(1, 5),
            "item_details": {"color": rng.choice(_COLORS), "size": rng.choice(_SIZES)},
        }
        for _ in range(rng.randint(1, 3))
    ]
    purchase = {
        "payment_type": rng.choice(_PAYMENTS),
        "amount": round(rng.uniform(5, 500), 2),
        "currency": rng.choice(_CURRENCIES),
        "instalments": rng.randint(1, 12),
    }
    return {
        "customer_id": rng.choice(_CUSTOMERS),
        "order_id": f"o{rng.randrange(100_000):05d}",
        "order_date": ordered_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "status": rng.choice(_STATUSES),
        "shipping_address": {
            "street": f"{rng.randint(1, 999)} Maple Court Apt. {rng.randint(1, 40)}",
            "city": city,
            "state": state,
            "zip": f"{rng.randrange(100_000):05d}",
            "country": country,
        },
        ("purchaise_details" if rng.random() < 0.9 else "purchase_details"): purchase,
        "product_details": lines,
    }


PIPELINE = Pipeline(name="orders", jobs=(), workflows={}, producers={STREAM: make_order_event})
