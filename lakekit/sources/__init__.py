"""One module per kind of source: DynamoDB exports, HTTP APIs, landed text files."""
