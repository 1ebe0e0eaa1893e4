"""DynamoDB tables read through their exports to S3: discovery, the raw load, the changes since a bookmark."""
