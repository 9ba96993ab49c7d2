"""AWS: the only package that imports boto3 and botocore (ruff's banned-api rule enforces it).
It returns plain typed results and raises AwsError (a ProviderError) with a message an
administrator can act on."""
