"""The only package that imports boto3. It returns plain typed results and raises AwsError
with a message an administrator can act on."""
