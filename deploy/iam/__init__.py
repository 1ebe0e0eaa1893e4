"""What each AWS request asks IAM: recorded requests mapped to (action, resources, condition keys), evaluated against
the roles of the synthesized template with a real IAM policy evaluator (docs/deploy.md, docs/iam.md)."""
