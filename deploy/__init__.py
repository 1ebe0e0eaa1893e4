"""The CDK app that deploys the lake: one stack per environment of conf/aws.yaml's `deploy:` section."""
