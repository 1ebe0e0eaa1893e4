"""The ingest Lambda's key hand-over: API Gateway checked the key, so the app gets the key it was made with."""

from deploy import ingest_handler


def test_a_gateway_checked_request_carries_the_process_key_in_place_of_the_callers():
    event = {
        "requestContext": {"identity": {"apiKey": "caller-key"}},
        "headers": {"X-Api-Key": "caller-key", "Content-Type": "application/json"},
        "multiValueHeaders": {"X-Api-Key": ["caller-key"], "Content-Type": ["application/json"]},
    }
    handed = ingest_handler.with_gateway_key(event)
    key = ingest_handler._GATEWAY_KEY
    assert handed["headers"] == {"Content-Type": "application/json", "x-api-key": key}
    assert handed["multiValueHeaders"] == {"Content-Type": ["application/json"], "x-api-key": [key]}
    assert event["headers"]["X-Api-Key"] == "caller-key"  # the event given is left as it was


def test_a_request_api_gateway_did_not_key_check_keeps_its_own_header():
    event = {"requestContext": {"identity": {"apiKey": None}}, "headers": {"x-api-key": "guess"}}
    assert ingest_handler.with_gateway_key(event) == event
    assert ingest_handler.with_gateway_key({"headers": {}}) == {"headers": {}}
